// Pages whose only step is a button to press (handing a response back to an app, signing out)
// press it themselves when JavaScript runs; without JavaScript the person presses it.
document.addEventListener('DOMContentLoaded', () => {
  const form = document.querySelector('form[data-auto-submit]');
  if (form) form.submit();
});
