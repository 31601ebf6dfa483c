/** What the login page shows of a user. */
interface ListedUser {
  username: string;
  name: string;
  groups: readonly string[];
}

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
button{font:inherit;display:block;width:100%;text-align:left;margin:.5rem 0;padding:.75rem 1rem;border:1px solid #555;border-radius:.5rem;background:#fff;color:#1a1a1a;cursor:pointer}
button:focus-visible,button:hover{outline:3px solid #0b57d0;outline-offset:2px}
.groups{display:block;color:#444;font-size:.875rem}`;

/** The simulated IdP's sign-in page: one button per user, the authorization request carried in hidden fields. */
export function loginPage(clientId: string, users: readonly ListedUser[], hidden: ReadonlyArray<readonly [string, string]>): string {
  const fields = hidden.map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`).join('');
  const buttons = users
    .map(
      (u) =>
        `<button type="submit" name="username" value="${escape(u.username)}">${escape(u.name)} (${escape(u.username)})` +
        `<span class="groups">groups: ${escape(u.groups.join(', ') || 'none')}</span></button>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in - simulated company IdP</title><style>${STYLE}</style></head><body><main>
<h1>Sign in to ${escape(clientId)}</h1><p>Simulated company identity provider: choose who you are.</p>
<form method="post" action="/authorize">${fields}${buttons}</form></main></body></html>`;
}

export function errorPage(title: string, detail: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1><p>${escape(detail)}</p></main></body></html>`;
}
