# Le tableau de bord du ménage, en français (usage québécois). Garder les mêmes messages que en.ftl.
app-title = Votre réseau à la maison
nav-home = Appareils
nav-events = Événements
nav-logout = Se déconnecter
lang-other = English
lang-other-code = en

login-title = Connexion
login-intro = Cette page montre et modifie ce que les appareils de votre maison ont le droit de faire. Seul le propriétaire peut s’y connecter.
login-password = Mot de passe
login-submit = Se connecter
login-wrong = Mot de passe incorrect.
login-slow = Trop de mots de passe erronés. Réessayez dans { $seconds } secondes.
setup-title = Choisissez le mot de passe du propriétaire
setup-intro = Aucun mot de passe n’est encore défini. Au démarrage, la passerelle a inscrit un code à usage unique dans son journal : entrez-le avec le mot de passe de votre choix.
setup-code = Code à usage unique
setup-new = Nouveau mot de passe (au moins { $min } caractères)
setup-submit = Enregistrer le mot de passe
setup-bad-code = Ce code à usage unique n’est pas le bon.
setup-short = Le mot de passe doit compter au moins { $min } caractères.
setup-done = Le mot de passe est enregistré. Connectez-vous avec celui-ci.

home-title = Les appareils de la maison
home-none = La passerelle n’a encore vu aucun appareil.
home-new = Nouveau
home-new-explain = Nouveau : cet appareil est-il à vous? Approuvez-le ou bloquez-le.
home-stale = La passerelle ne fonctionne pas : ce que vous voyez date du { $time }.
home-blocked = { $count ->
    [0] Rien de bloqué dans les dernières 24 heures
    [one] 1 paquet bloqué dans les dernières 24 heures
   *[other] { $count } paquets bloqués dans les dernières 24 heures
}

level-declared = Comme son fabricant l’a déclaré
level-default = Internet seulement
level-update-only = Mises à jour seulement
level-isolated = Isolé
level-trusted = De confiance

sentence-declared = Seulement ce dont { $maker } a déclaré qu’il a besoin.
sentence-default = Internet seulement, rien d’autre dans la maison : { $why }.
sentence-update-only = Seulement les mises à jour : { $why }.
sentence-isolated = Isolé à { $time } : { $what }
sentence-isolated-owner = Isolé par vous à { $time }, jusqu’à ce que vous le libériez.
sentence-trusted = Vous lui faites confiance : Internet et les autres appareils de la maison.
sentence-released = Libéré par vous jusqu’à { $time }; il sera ensuite isolé de nouveau.

cause-no-mud-url = son fabricant n’a publié aucun profil pour lui
cause-mud-pending = le profil de son fabricant est en cours de vérification
cause-no-mud-file = le profil de son fabricant n’a pas pu être obtenu
cause-mud-url-changed = il a annoncé un autre profil que celui d’avant
cause-label-revoked = son étiquette de sécurité a été révoquée
cause-label-suspended = son étiquette de sécurité est suspendue
cause-firmware-revoked = l’étiquette de sécurité de son logiciel a été révoquée
cause-firmware-suspended = l’étiquette de sécurité de son logiciel est suspendue
cause-support-ended = son fabricant ne le prend plus en charge
cause-label-expired = son étiquette de sécurité est échue
cause-label-answer-refused = la réponse du registre au sujet de son étiquette n’a pas pu être vérifiée
cause-not-supported = son fabricant indique qu’il n’est plus pris en charge
cause-no-label = le profil de son fabricant est vérifié, mais il n’a pas d’étiquette de sécurité
cause-refused = le profil de son fabricant n’a pas passé les vérifications ({ $code })
cause-other = { $code }

label-active = Étiquette valide
label-revoked = Étiquette révoquée
label-none = Aucune étiquette
label-problem = Étiquette non vérifiée
label-suspended = Étiquette suspendue
label-support-ended = Prise en charge terminée
label-expired = Étiquette échue
label-superseded = Étiquette remplacée
label-not-yet-valid = Étiquette pas encore valide
label-not-asked = Étiquette pas encore vérifiée
label-other = Étiquette : { $status }

device-title = { $name }
device-may = Ce qu’il a le droit de faire
device-may-declared = Il peut joindre seulement ce que le profil de son fabricant énumère; tout le reste est bloqué.
device-may-default = Il peut utiliser Internet pour le Web et ses applications, mais rien d’autre dans votre maison ne peut le joindre, et il ne peut rien y joindre.
device-may-update-only = Il peut seulement obtenir les mises à jour de son fabricant et résoudre des noms (DNS). Tout le reste est bloqué.
device-may-isolated = Il peut seulement obtenir une adresse et résoudre des noms (DNS) auprès de la passerelle. Tout le reste est bloqué.
device-may-trusted = Il peut utiliser Internet et les autres appareils de la maison, comme avec un routeur ordinaire. D’Internet, seules les réponses à ses propres demandes entrent.
device-profile = Le profil de son fabricant
device-profile-none = aucun annoncé
device-profile-verified = vérifié, signé par { $signer }
device-profile-state = { $state }
device-label = Son étiquette de sécurité
device-label-status = État
device-label-product = Produit
device-label-support-end = Mises à jour de sécurité promises jusqu’au
device-label-update-mode = Comment il reçoit ses mises à jour
update-mode-automatic = tout seul, automatiquement
update-mode-user-initiated = quand vous les acceptez
update-mode-manual = seulement si vous les téléchargez et les installez vous-même
update-mode-none = jamais : il ne peut pas être mis à jour
device-label-failing = Ce que l’évaluation a trouvé en défaut
device-label-undecided = Ce que l’évaluation n’a pas pu vérifier
device-label-assessor = Évalué par
device-label-page = Voir l’étiquette
device-label-checked = Vérifiée auprès du registre à { $time }
device-label-unreachable = Le registre est injoignable depuis { $time }; la dernière réponse vérifiée est utilisée.
device-facts = À propos de cet appareil
device-mac = Adresse matérielle
device-vendor = Fabricant (d’après son adresse matérielle)
device-hostname = Nom qu’il se donne
device-addresses = Adresses
device-first-seen = Vu pour la première fois
device-events = Ce qui s’est passé
device-no-events = Rien pour l’instant.
device-evidence = { $count ->
    [one] 1 paquet conservé comme preuve
   *[other] { $count } paquets conservés comme preuve
}
device-exceptions = Ce que vous lui permettez en plus
device-exceptions-none = Rien de plus que ce que son niveau permet. Vous pouvez lui ouvrir une destination de plus ci-dessous.
device-exceptions-intro = Vous lui permettez de joindre ces destinations, en plus de ce que son niveau permet :
device-exception-held = (pas tant qu’il est isolé)
device-exception-unneeded = (inutile tant que vous lui faites confiance)
device-traffic = Ce que la passerelle a compté
device-traffic-summary = Depuis le démarrage de la passerelle : { $allowed } paquets laissés passer, { $blocked } bloqués ({ $day } dans les dernières 24 heures).
device-traffic-rules = Règle par règle
device-traffic-rule = Règle
device-traffic-direction = Sens
device-traffic-out = venant de l’appareil
device-traffic-in = vers l’appareil
device-traffic-allowed = Laissés passer
device-traffic-blocked = Bloqués
device-actions = Ce que vous pouvez faire
device-unknown = La passerelle ne connaît aucun appareil à cette adresse.

action-allow = Permettre
action-allow-destination = Une destination de plus (un nom ou une adresse)
action-allow-proto = Protocole
action-allow-any = tous
action-allow-port = Port (facultatif)
action-disallow = Retirer
action-release = Libérer maintenant
action-release-hour = Libérer pour une heure
action-isolate = Isoler maintenant
action-block = Bloquer
action-approve = C’est à moi
action-trust = Lui faire confiance (ordinateur, téléphone)
action-untrust = Ne plus lui faire confiance
action-rename = Renommer
action-rename-field = Nom
action-forget = Oublier cet appareil

done-release = Libéré.
done-release-hour = Libéré pour une heure; il sera ensuite isolé de nouveau.
done-isolate = Isolé.
done-block = Bloqué.
done-approve = Marqué comme étant à vous.
done-trust = Vous lui faites confiance.
done-untrust = Vous ne lui faites plus confiance.
done-rename = Renommé.
done-allow = Permis. La destination s’ouvre pour cet appareil seulement.
done-disallow = Retiré.
done-forget = Oublié. Il apparaîtra comme un nouvel appareil s’il se reconnecte.
err-not-running = La passerelle ne fonctionne pas : rien n’a été changé.
err-not-quarantined = Cet appareil n’est pas isolé.
err-no-answer = La passerelle n’a pas répondu à temps; elle le fera dès que possible.
err-invalid = Ce n’est pas possible : { $detail }
err-other = La passerelle ne l’a pas fait : { $detail }

events-title = Événements
events-week = Les sept derniers jours
events-week-summary = { $quarantines ->
    [one] 1 isolement
   *[other] { $quarantines } isolements
}, { $new ->
    [one] 1 nouvel appareil
   *[other] { $new } nouveaux appareils
}, { $owner ->
    [one] 1 changement de votre part
   *[other] { $owner } changements de votre part
}.
events-filter-device = Appareil
events-filter-all = Tous les appareils
events-filter-kind = Quoi
events-filter-every-kind = tout
events-kind-quarantine = isolements et libérations
events-kind-devices = appareils qui arrivent et qui partent
events-kind-owner = ce que vous avez fait
events-kind-profile = profils des fabricants et étiquettes
events-filter-submit = Afficher
events-none = Aucun événement.
events-more = Les événements plus anciens ne sont pas affichés.

journal-contain = Vu pour la première fois, placé à « { $level } »
journal-level = Maintenant « { $level } »
journal-quarantine = Isolé
journal-release = Libéré par vous
journal-release-for = Libéré par vous jusqu’à { $time }
journal-expire = Son isolement a pris fin
journal-resume = Isolé de nouveau : votre libération est terminée
journal-evict = Retiré pour faire de la place (inactif)
journal-refused = Le pare-feu a refusé un changement; maintenu à « { $level } »
journal-retry = Le pare-feu a accepté le changement
journal-trust = Vous lui faites confiance
journal-untrust = Vous ne lui faites plus confiance
journal-mud = Le profil de son fabricant : maintenant « { $level } »
journal-label = Son étiquette de sécurité : maintenant « { $level } »
journal-rename = Vous l’avez nommé « { $name } »
journal-rename-clear = Vous lui avez retiré son nom
journal-approve = Vous avez indiqué qu’il est à vous
journal-forget = Vous l’avez retiré
journal-allow = Vous lui avez permis { $destination }
journal-disallow = Vous ne lui permettez plus { $destination }
journal-by-owner = par vous

alert-new-device = Nouvel appareil à la maison : { $name }
alert-quarantine = { $name } a été isolé
alert-label-revoked = { $name } : son étiquette de sécurité a été retirée
alert-support-ended = { $name } : plus de mises à jour de sécurité
alert-more-title = Autres alertes de votre passerelle
alert-more = { $count ->
    [one] 1 autre alerte a été retenue pour ne pas vous inonder; consultez les événements du tableau de bord.
   *[other] { $count } autres alertes ont été retenues pour ne pas vous inonder; consultez les événements du tableau de bord.
}
