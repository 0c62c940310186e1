// One UserManager for the app. oidc-client-ts (loaded as the global `oidc`) does the
// authorization code flow with PKCE as a public client: no secret in the browser.
const config = await (await fetch('/config.json')).json();

export const userManager = new oidc.UserManager({
  authority: config.issuer,
  client_id: config.clientId,
  redirect_uri: `${location.origin}/callback.html`,
  post_logout_redirect_uri: `${location.origin}/`,
  scope: 'openid profile email roles',
  // Tokens last as long as the tab (the default); localStorage would share them across tabs.
  userStore: new oidc.WebStorageStateStore({ store: sessionStorage }),
});
