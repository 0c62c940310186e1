import type { MessageKey } from './en.ts';

export const fr: Record<MessageKey, string> = {
  'common.cancel': 'Annuler',

  'login.title': 'Connexion',
  'login.heading': 'Connexion',
  'login.to-client': 'pour continuer vers {client}',
  'login.email': 'Adresse e-mail',
  'login.password': 'Mot de passe',
  'login.submit': 'Se connecter',
  'login.failed': 'L’adresse e-mail ou le mot de passe est incorrect.',
  'login.invalid': 'Saisissez votre adresse e-mail et votre mot de passe.',

  'consent.title': 'Autoriser l’accès',
  'consent.heading': '{client} souhaite accéder à votre compte {brand}',
  'consent.signed-in-as': 'Connecté en tant que {email}',
  'consent.intro': 'Si vous l’autorisez, {client} pourra :',
  'consent.allow': 'Autoriser',
  'consent.deny': 'Refuser',
  'scope.openid': 'Savoir qui vous êtes',
  'scope.profile': 'Voir votre nom',
  'scope.email': 'Voir votre adresse e-mail',
  'scope.offline_access': 'Garder l’accès en votre absence',

  'logout.title': 'Déconnexion',
  'logout.heading': 'Se déconnecter de {brand} ?',
  'logout.intro': 'Vous serez déconnecté de {brand} sur cet appareil.',
  'logout.intro-client': '{client} demande à vous déconnecter de {brand} sur cet appareil.',
  'logout.confirm': 'Se déconnecter',
  'logout.stay': 'Rester connecté',

  'signed-out.title': 'Déconnecté',
  'signed-out.message': 'Vous êtes maintenant déconnecté de {brand}.',
  'signed-out.back': 'Retour à {client}',

  'expired.title': 'Cette connexion a expiré',
  'expired.message': 'Cette page est restée ouverte trop longtemps ou a déjà été utilisée. Retournez dans l’application depuis laquelle vous vous connectiez et recommencez.',

  'error.title': 'Une erreur est survenue',
  'error.generic': 'Votre demande n’a pas pu aboutir. Retournez dans l’application et réessayez.',
  'error.client': 'Cette application n’est pas correctement configurée pour se connecter avec {brand}. Merci de prévenir son support.',
  'error.request': 'L’application a envoyé une demande de connexion que {brand} ne peut pas accepter. Merci de prévenir son support.',
  'error.busy': 'Le service est très sollicité en ce moment. Réessayez dans un instant.',
  'error.not-found': 'Cette page n’existe pas.',
  'error.forbidden': 'Ce formulaire a expiré ou a été envoyé depuis un autre site. Revenez en arrière, rechargez la page et réessayez.',
  'error.details': 'Détails pour les développeurs de l’application',
  'error.reference': 'Référence : {id}',
};
