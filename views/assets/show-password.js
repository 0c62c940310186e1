// A "Show password" button beside every password field, added only when this script runs: without
// it the field works as always. A toggle button (aria-pressed), labelled in the page's language
// (data-show-password on <body>), that turns the field back into a password before the form goes.
document.addEventListener('DOMContentLoaded', () => {
  const label = document.body.dataset.showPassword;
  if (!label) return;
  for (const input of document.querySelectorAll('input[type="password"][id]')) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'show-password';
    button.textContent = label;
    button.setAttribute('aria-pressed', 'false');
    button.setAttribute('aria-controls', input.id);
    button.addEventListener('click', () => {
      const shown = input.type === 'password';
      input.type = shown ? 'text' : 'password';
      button.setAttribute('aria-pressed', String(shown));
    });
    input.insertAdjacentElement('afterend', button);
    input.form?.addEventListener('submit', () => {
      input.type = 'password';
      button.setAttribute('aria-pressed', 'false');
    });
  }
});
