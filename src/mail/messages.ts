// What every e-mail says, in English and French. Kept beside the mailer rather than in src/i18n:
// these strings are read in a mail client, long after the request that sent them. Placeholders:
// {brand} (the company's name), {name}, {provider}. Both catalogues have the same keys and the
// same placeholders (checked by test/mail.test.ts).

export const en = {
  greeting: 'Hello,',
  'greeting.named': 'Hello {name},',
  'link.hint': 'If the button does not work, copy this address into your browser:',
  footer: 'This message was sent automatically by {brand}. Please do not reply to it.',

  'verify-email.subject': 'Confirm your e-mail address for {brand}',
  'verify-email.intro': 'Please confirm that this is the e-mail address of your {brand} account.',
  'verify-email.action': 'Confirm my address',
  'verify-email.note': 'This link is valid for 24 hours. If you did not create an account with {brand}, you can ignore this message.',

  'reset-password.subject': 'Reset your {brand} password',
  'reset-password.intro': 'Someone asked to reset the password of your {brand} account.',
  'reset-password.action': 'Choose a new password',
  'reset-password.note': 'This link is valid for 15 minutes. If you did not ask, ignore this message: your password stays as it is.',

  'password-changed.subject': 'Your {brand} password was changed',
  'password-changed.intro': 'The password of your {brand} account has just been changed. If it was you, there is nothing more to do.',
  'password-changed.warning': 'If it was not you, reset your password now:',
  'password-changed.action': 'Reset my password',

  'already-registered.subject': 'You already have a {brand} account',
  'already-registered.intro': 'Someone tried to create a new account with {brand} using this e-mail address, which already belongs to your account.',
  'already-registered.sign-in': 'If it was you, you can sign in:',
  'already-registered.sign-in.action': 'Sign in',
  'already-registered.reset': 'If you have forgotten your password, you can reset it:',
  'already-registered.reset.action': 'Reset my password',
  'already-registered.note': 'If it was not you, ignore this message: nobody else can use your account.',

  'link-account.subject': 'Confirm linking your {provider} sign-in to {brand}',
  'link-account.intro': 'Please confirm that you want to sign in to your {brand} account with {provider}.',
  'link-account.action': 'Link {provider}',
  'link-account.note': 'This link is valid for 30 minutes. If you did not ask, ignore this message: nothing will be linked.',

  'confirm-new-email.subject': 'Confirm your new e-mail address for {brand}',
  'confirm-new-email.intro': 'You asked to use this address for your {brand} account. Your account keeps its current address until you confirm.',
  'confirm-new-email.action': 'Use this address',
  'confirm-new-email.note': 'This link is valid for 24 hours. If you did not ask, ignore this message: nothing will change.',

  'security-change.subject': 'Security change on your {brand} account',
  'security-change.email-changed': 'The e-mail address of your {brand} account was changed to {newEmail}. This address no longer signs in.',
  'security-change.passkey-added': 'A passkey ({device}) was added to your {brand} account.',
  'security-change.passkey-removed': 'A passkey ({device}) was removed from your {brand} account.',
  'security-change.totp-enabled': 'An authenticator app was set up as a second factor for your {brand} account.',
  'security-change.totp-removed': 'The authenticator app was removed from your {brand} account.',
  'security-change.recovery-codes-created': 'New recovery codes were created for your {brand} account; the old ones no longer work.',
  'security-change.recovery-code-used': 'A recovery code was used to sign in to your {brand} account. {remaining} codes are left.',
  'security-change.provider-linked': 'Sign-in with {provider} was linked to your {brand} account.',
  'security-change.provider-unlinked': 'Sign-in with {provider} was unlinked from your {brand} account.',
  'security-change.second-factors-reset': 'An administrator removed the second factors (passkeys, authenticator app, recovery codes) of your {brand} account.',
  'security-change.signed-out-everywhere': 'Your {brand} account was signed out on every device and app.',
  'security-change.warning': 'If it was you, there is nothing more to do. If it was not, review your account and change your password now:',
  'security-change.action': 'Review my account',
} as const;

export type MailMessageKey = keyof typeof en;

export const fr: Record<MailMessageKey, string> = {
  greeting: 'Bonjour,',
  'greeting.named': 'Bonjour {name},',
  'link.hint': 'Si le bouton ne fonctionne pas, copiez cette adresse dans votre navigateur :',
  footer: 'Ce message vous a été envoyé automatiquement par {brand}. Merci de ne pas y répondre.',

  'verify-email.subject': 'Confirmez votre adresse e-mail pour {brand}',
  'verify-email.intro': 'Merci de confirmer que cette adresse e-mail est bien celle de votre compte {brand}.',
  'verify-email.action': 'Confirmer mon adresse',
  'verify-email.note': "Ce lien est valable 24 heures. Si vous n'avez pas créé de compte {brand}, vous pouvez ignorer ce message.",

  'reset-password.subject': 'Réinitialisez votre mot de passe {brand}',
  'reset-password.intro': 'Quelqu’un a demandé à réinitialiser le mot de passe de votre compte {brand}.',
  'reset-password.action': 'Choisir un nouveau mot de passe',
  'reset-password.note': "Ce lien est valable 15 minutes. Si vous n'avez rien demandé, ignorez ce message : votre mot de passe reste inchangé.",

  'password-changed.subject': 'Votre mot de passe {brand} a été modifié',
  'password-changed.intro': "Le mot de passe de votre compte {brand} vient d'être modifié. Si c'était vous, vous n'avez rien d'autre à faire.",
  'password-changed.warning': "Si ce n'était pas vous, réinitialisez votre mot de passe dès maintenant :",
  'password-changed.action': 'Réinitialiser mon mot de passe',

  'already-registered.subject': 'Vous avez déjà un compte {brand}',
  'already-registered.intro': 'Quelqu’un a essayé de créer un nouveau compte {brand} avec cette adresse e-mail, qui appartient déjà à votre compte.',
  'already-registered.sign-in': "Si c'était vous, vous pouvez vous connecter :",
  'already-registered.sign-in.action': 'Se connecter',
  'already-registered.reset': 'Si vous avez oublié votre mot de passe, vous pouvez le réinitialiser :',
  'already-registered.reset.action': 'Réinitialiser mon mot de passe',
  'already-registered.note': "Si ce n'était pas vous, ignorez ce message : personne d'autre ne peut utiliser votre compte.",

  'link-account.subject': 'Confirmez la liaison de votre connexion {provider} à {brand}',
  'link-account.intro': 'Merci de confirmer que vous voulez vous connecter à votre compte {brand} avec {provider}.',
  'link-account.action': 'Lier {provider}',
  'link-account.note': "Ce lien est valable 30 minutes. Si vous n'avez rien demandé, ignorez ce message : rien ne sera lié.",

  'confirm-new-email.subject': 'Confirmez votre nouvelle adresse e-mail pour {brand}',
  'confirm-new-email.intro': "Vous avez demandé à utiliser cette adresse pour votre compte {brand}. Votre compte garde son adresse actuelle jusqu'à votre confirmation.",
  'confirm-new-email.action': 'Utiliser cette adresse',
  'confirm-new-email.note': "Ce lien est valable 24 heures. Si vous n'avez rien demandé, ignorez ce message : rien ne changera.",

  'security-change.subject': 'Changement de sécurité sur votre compte {brand}',
  'security-change.email-changed': "L'adresse e-mail de votre compte {brand} a été changée en {newEmail}. Cette adresse-ci ne permet plus de se connecter.",
  'security-change.passkey-added': 'Une clé d’accès ({device}) a été ajoutée à votre compte {brand}.',
  'security-change.passkey-removed': 'Une clé d’accès ({device}) a été retirée de votre compte {brand}.',
  'security-change.totp-enabled': "Une application d'authentification a été configurée comme second facteur de votre compte {brand}.",
  'security-change.totp-removed': "L'application d'authentification a été retirée de votre compte {brand}.",
  'security-change.recovery-codes-created': 'De nouveaux codes de secours ont été créés pour votre compte {brand} ; les anciens ne fonctionnent plus.',
  'security-change.recovery-code-used': 'Un code de secours a servi à vous connecter à votre compte {brand}. Il en reste {remaining}.',
  'security-change.provider-linked': 'La connexion avec {provider} a été liée à votre compte {brand}.',
  'security-change.provider-unlinked': 'La connexion avec {provider} a été déliée de votre compte {brand}.',
  'security-change.second-factors-reset': "Un administrateur a retiré les seconds facteurs (clés d’accès, application d'authentification, codes de secours) de votre compte {brand}.",
  'security-change.signed-out-everywhere': 'Votre compte {brand} a été déconnecté sur tous les appareils et toutes les applications.',
  'security-change.warning': "Si c'était vous, il n'y a rien d'autre à faire. Sinon, vérifiez votre compte et changez votre mot de passe maintenant :",
  'security-change.action': 'Vérifier mon compte',
};

export const mailCatalogues = { en, fr } as const;
