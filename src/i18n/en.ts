// English, the reference catalogue: fr.ts must have exactly these keys (the type checker and
// src/i18n/i18n.test.ts hold it to that). Placeholders are {name}.
export const en = {
  'common.cancel': 'Cancel',

  'login.title': 'Sign in',
  'login.heading': 'Sign in',
  'login.to-client': 'to continue to {client}',
  'login.email': 'E-mail address',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.failed': 'The e-mail address or password is incorrect.',
  'login.invalid': 'Enter your e-mail address and your password.',
  'login.forgot': 'Forgot your password?',
  'login.no-account': 'No account yet?',
  'login.register': 'Create an account',

  'form.required': 'This field is required.',
  'form.email': 'Enter an e-mail address like name@example.com.',
  'form.too-long': 'This is too long.',
  'form.problems': 'Please correct the fields marked below.',

  'password.hint': 'At least {min} characters. A few unrelated words make a strong password.',
  'password.too-short': 'Use at least {min} characters.',
  'password.too-long': 'Use at most {max} characters.',
  'password.common': 'This password is too common: it appears in lists of leaked passwords. Choose another one.',
  'password.personal': 'Do not use your e-mail address in your password.',

  'register.title': 'Create an account',
  'register.heading': 'Create your {brand} account',
  'register.given-name': 'Given name',
  'register.family-name': 'Family name',
  'register.email': 'E-mail address',
  'register.password': 'Password',
  'register.submit': 'Create account',
  'register.have-account': 'Already have an account?',
  'register.sign-in': 'Sign in',

  'inbox.title': 'Check your inbox',
  'inbox.registered': 'We sent a message to {email}. Open the link in it to confirm your address, then sign in.',
  'inbox.reset': 'If an account exists for {email}, we sent it a link to choose a new password. The link works for 15 minutes.',
  'inbox.back': 'Back to sign in',

  'forgot.title': 'Reset your password',
  'forgot.intro': 'Enter the e-mail address of your account and we will send you a link to choose a new password.',
  'forgot.submit': 'Send me a link',

  'reset.title': 'Choose a new password',
  'reset.intro': 'Choose a new password for your {brand} account.',
  'reset.password': 'New password',
  'reset.submit': 'Change password',
  'reset.done-title': 'Your password was changed',
  'reset.done': 'You are now signed out everywhere. Sign in again with your new password.',
  'reset.continue': 'Continue signing in',

  'link.invalid-title': 'This link no longer works',
  'link.invalid': 'It has expired, has already been used, or a newer one was sent. Ask for a new one.',
  'link.new-reset': 'Ask for a new link',

  'verify.title': 'Confirm your e-mail address',
  'verify.link-intro': 'Confirm that this address belongs to you to finish setting up your {brand} account.',
  'verify.confirm': 'Confirm my address',
  'verify.done-title': 'Your address is confirmed',
  'verify.done': 'Thank you. You can now continue signing in.',
  'verify.prompt': 'Before you continue, open the link we sent to {email}.',
  'verify.sent': 'We sent a new link to {email}.',
  'verify.continue': 'I have confirmed it, continue',
  'verify.resend': 'Send the link again',
  'verify.not-yet': 'Your address is not confirmed yet. Open the link in the message we sent you.',

  'profile.title': 'Complete your profile',
  'profile.intro': 'Tell us your name to finish signing in.',
  'profile.submit': 'Continue',

  'home.title': 'Sign-in service',
  'home.intro': 'This is where you sign in to the apps of {brand}. To sign in, open the app you want to use.',

  'too-many.title': 'Too many attempts',
  'too-many.message': 'For your security, please wait {minutes} minute(s) before you try again.',

  'consent.title': 'Allow access',
  'consent.heading': '{client} wants to access your {brand} account',
  'consent.signed-in-as': 'Signed in as {email}',
  'consent.intro': 'If you allow it, {client} will be able to:',
  'consent.allow': 'Allow',
  'consent.deny': 'Deny',
  'scope.openid': 'Know who you are',
  'scope.profile': 'See your name',
  'scope.email': 'See your e-mail address',
  'scope.offline_access': 'Keep access while you are away',

  'logout.title': 'Sign out',
  'logout.heading': 'Sign out of {brand}?',
  'logout.intro': 'You will be signed out of {brand} on this device.',
  'logout.intro-client': '{client} asks to sign you out of {brand} on this device.',
  'logout.confirm': 'Sign out',
  'logout.stay': 'Stay signed in',

  'signed-out.title': 'Signed out',
  'signed-out.message': 'You are now signed out of {brand}.',
  'signed-out.back': 'Back to {client}',

  'expired.title': 'This sign-in has expired',
  'expired.message': 'This page was open too long or has already been used. Go back to the app you were signing in to and start again.',

  'error.title': 'Something went wrong',
  'error.generic': 'We could not complete your request. Please go back to the app and try again.',
  'error.client': 'This app is not set up correctly to sign in with {brand}. Please let its support team know.',
  'error.request': 'The app sent a sign-in request that {brand} cannot accept. Please let its support team know.',
  'error.busy': 'The service is very busy right now. Please try again in a moment.',
  'error.not-found': 'This page does not exist.',
  'error.forbidden': 'This form has expired or was sent from another site. Go back, reload the page and try again.',
  'error.details': 'Details for the app’s developers',
  'error.reference': 'Reference: {id}',
} as const;

export type MessageKey = keyof typeof en;
