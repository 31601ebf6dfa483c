import { browserAvailable } from './chromium';

/** `describe` for browser specs: skipped only when CI is unset and no Chromium is installed. */
export const describeInBrowser: jest.Describe = browserAvailable() ? describe : describe.skip;
