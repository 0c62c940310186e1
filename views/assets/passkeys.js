// Passkey ceremonies on our pages, through @simplewebauthn/browser (simplewebauthn-browser.js,
// loaded before this file). Each form marked data-passkey="sign-in|second-factor|register" is
// hidden in the page and shown here only if this browser can use passkeys: without JavaScript
// or WebAuthn nothing broken is offered. On submit the script runs the ceremony with the options
// the server drew into the form (data-options, JSON: nothing is fetched, the page's CSP has no
// connect-src), puts the browser's answer in the form's `response` field and submits the form:
// the server decides, as for any form.
// On the sign-in page the browser's own passkey suggestions are offered in the e-mail field
// (autocomplete="username webauthn", conditional mediation) as soon as the page is shown.
// Messages come in the page's language from the form's data-error-* attributes.
document.addEventListener('DOMContentLoaded', () => {
  const webauthn = window.SimpleWebAuthnBrowser;
  if (!webauthn || !webauthn.browserSupportsWebAuthn()) return;
  const { startAuthentication, startRegistration, browserSupportsWebAuthnAutofill } = webauthn;

  // A new object each time: the library may change what it is given. None when the server wants
  // the form first (the account page, a sign-in to renew): it is then sent as it is.
  const optionsOf = (form) => (form.dataset.options ? JSON.parse(form.dataset.options) : null);

  function messageFor(form, error) {
    const cause = error && (error.cause || error);
    const name = cause && cause.name;
    if (error && error.code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED') return form.dataset.errorExists || form.dataset.errorFailed;
    if (name === 'NotAllowedError' || name === 'AbortError') return form.dataset.errorCancelled;
    return form.dataset.errorFailed;
  }

  function showError(form, message) {
    const box = form.querySelector('[data-passkey-error]');
    if (!box) return;
    box.textContent = message || '';
    box.hidden = !message;
    // An alert only while it says something: an empty one on every login page would be read out
    // as nothing, and is not the page's message.
    if (message) box.setAttribute('role', 'alert');
    else box.removeAttribute('role');
  }

  function send(form, credential) {
    form.elements.response.value = JSON.stringify(credential);
    form.submit();
  }

  async function ceremony(form, autofill) {
    const optionsJSON = optionsOf(form);
    if (form.dataset.passkey === 'register') return startRegistration({ optionsJSON });
    return startAuthentication({ optionsJSON, useBrowserAutofill: autofill });
  }

  for (const form of document.querySelectorAll('form[data-passkey]')) {
    form.hidden = false;
    for (const fallback of document.querySelectorAll('[data-passkey-fallback]')) fallback.hidden = true;
    const button = form.querySelector('button[type="submit"]');
    form.addEventListener('submit', async (event) => {
      if (!form.dataset.options) return;
      event.preventDefault();
      if (button) button.disabled = true;
      showError(form, '');
      try {
        send(form, await ceremony(form, false));
      } catch (error) {
        showError(form, messageFor(form, error));
        if (button) button.disabled = false;
      }
    });
  }

  // The browser lists this site's passkeys among the e-mail field's suggestions; a new ceremony
  // (the button) cancels this one, which then ends quietly.
  const autofill = document.querySelector('form[data-passkey="sign-in"][data-autofill]');
  if (autofill && autofill.dataset.options && document.querySelector('input[autocomplete~="webauthn"]')) {
    browserSupportsWebAuthnAutofill().then(async (supported) => {
      if (!supported) return;
      try {
        send(autofill, await ceremony(autofill, true));
      } catch (error) {
        // Nobody asked for this one: it ends quietly, whatever happened (the button tells).
        if (error && error.code !== 'ERROR_CEREMONY_ABORTED' && (error.cause || error).name !== 'AbortError') console.debug('passkey autofill ended', error);
      }
    });
  }
});
