/**
 * Colours for the charts: each cloud its own, and for other series the Okabe-Ito palette, which
 * people with the common colour-vision deficiencies can tell apart. Every chart also has its
 * table, so no number depends on telling colours apart.
 */
export const CLOUD_COLOURS: Record<string, string> = { aws: '#d55e00', azure: '#0072b2', gcp: '#009e73' };

const CATEGORICAL = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#7f7f7f'];

/** A colour per series label: the cloud's where it is one, else the palette in order. */
export function coloursFor(labels: readonly string[]): string[] {
  let next = 0;
  return labels.map((l) => CLOUD_COLOURS[l] ?? CATEGORICAL[next++ % CATEGORICAL.length]);
}

/** A CSS custom property of the page (the stylesheet's colours, light or dark), for axis text and grid lines. */
export function cssColour(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}
