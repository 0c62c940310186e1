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
