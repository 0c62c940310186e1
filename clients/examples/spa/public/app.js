import { userManager } from '/auth.js';

const user = await userManager.getUser();
const signedIn = user && !user.expired;
document.getElementById('signed-in').hidden = !signedIn;
document.getElementById('signed-out').hidden = Boolean(signedIn);

if (signedIn) {
  // The ID token's claims: Sésame puts the granted scopes' claims there.
  document.getElementById('email').textContent = user.profile.email;
  document.getElementById('roles').textContent = (user.profile.roles ?? []).join(', ');
}

document.getElementById('sign-in').onclick = () => userManager.signinRedirect();
// RP-Initiated Logout: oidc-client-ts sends the ID token as id_token_hint.
document.getElementById('sign-out').onclick = () => userManager.signoutRedirect();
