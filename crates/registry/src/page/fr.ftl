# La page consommateur d'une étiquette (crates/registry/src/page.rs), en français (usage
# québécois). Mêmes identifiants que en.ftl (vérifié par un test unitaire). Les valeurs tirées
# d'une étiquette sont passées en variables et tout le texte formaté est ensuite échappé pour
# le HTML : aucun message ne contient de balisage.

## Cadre et navigation

page-title = Étiquette de sécurité : { $model }
page-title-technical = Détails techniques : { $model }
overview = Aperçu de la sécurité
technical = Détails techniques
# Le lien vers la page dans l'autre langue, écrit dans cette langue.
other-language = English
language = Langue :
about-title = À propos de cette étiquette
about-text = Cette page présente l'étiquette de sécurité inscrite pour ce produit au journal public de ce registre : jusqu'à quand le fabricant promet des mises à jour de sécurité, comment l'appareil gère les mots de passe et les mises à jour, et ce qu'a conclu son évaluation de sécurité.
technical-link = Détails techniques de cette étiquette
technical-intro = Cette page regroupe les détails techniques de l'étiquette, à l'intention des spécialistes, des chercheurs et de toute personne qui en a besoin.
overview-link = Retour à l'aperçu de la sécurité

## Produit

product = Modèle
hardware-revision = Révision matérielle
manufacturer = Fabricant

## Le bandeau d'état : un titre et ce que cela signifie pour l'acheteur

state-good-title = Évaluation de sécurité réussie
state-good-text = Valide : l'étiquette est en vigueur, l'appareil reçoit des mises à jour de sécurité et il a réussi son évaluation de sécurité.
state-failed-title = A ÉCHOUÉ à son évaluation de sécurité
state-failed-text = Non conforme : l'étiquette est authentique et en vigueur, mais l'appareil a échoué à son évaluation de sécurité. Voyez plus bas les exigences qu'il ne respecte pas avant de l'acheter ou de le brancher.
state-not-assessed-title = Non évalué : cette étiquette ne prouve rien sur la sécurité
state-not-assessed-text = L'étiquette est authentique et en vigueur, mais elle ne consigne aucune évaluation : elle ne dit donc rien de la sécurité de l'appareil.
state-revoked-title = Étiquette révoquée
state-revoked-text = Révoquée : le registre a retiré cette étiquette de façon définitive (motif indiqué : { $reason }). Ne vous y fiez pas : un problème de sécurité a peut-être été découvert dans l'appareil. Si vous ne l'avez pas encore acheté, choisissez un autre produit ou informez-vous auprès du vendeur.
state-suspended-title = Étiquette suspendue
state-suspended-text = Suspendue : le registre a mis cette étiquette en veilleuse le temps d'examiner un problème. Tant qu'elle n'est pas rétablie, ne la considérez pas comme une preuve que l'appareil est sécuritaire.
state-expired-title = Étiquette expirée
state-expired-text = Expirée : cette étiquette était valide jusqu'au { $until }. Elle ne garantit plus rien sur l'appareil; demandez une étiquette à jour au fabricant avant de vous y fier.
state-support-ended-title = Fin des mises à jour de sécurité
state-support-ended-text = Le soutien a pris fin : le fabricant ne promettait des mises à jour de sécurité que jusqu'au { $end }. Les failles découvertes à partir de maintenant ne seront pas corrigées; pensez-y à deux fois avant d'acheter cet appareil ou de le brancher à votre réseau domestique.
state-superseded-title = Remplacée par une étiquette plus récente
state-superseded-text = Une étiquette plus récente ({ $by }) remplace celle-ci. Consultez la nouvelle étiquette : celle-ci ne décrit peut-être plus le logiciel actuel de l'appareil.
state-not-yet-valid-title = Étiquette pas encore en vigueur
state-not-yet-valid-text = Cette étiquette n'entre en vigueur que le { $from }. D'ici là, ne vous y fiez pas.
also-failed = L'appareil a aussi échoué à son évaluation de sécurité.

## Mécanismes de sécurité

security-title = Mécanismes de sécurité
support = Mises à jour de sécurité
support-until = Au moins jusqu'au
support-ended-on = Terminées après le
update-mode = Réception des mises à jour
update-automatic = Installées automatiquement
update-user-initiated = Proposées, puis installées quand vous les acceptez
update-manual = À télécharger et à installer vous-même
update-none = Cet appareil ne peut pas être mis à jour
update-unknown = Non précisé
access-control = Mots de passe par défaut
credentials-unique-per-device = Aucun mot de passe par défaut commun : chaque appareil a son propre mot de passe unique
credentials-user-set = Aucun mot de passe par défaut : vous choisissez le vôtre avant la première utilisation
credentials-none = Aucun mot de passe : l'appareil n'a pas d'accès protégé par connexion
credentials-unknown = Non précisé
report-problem = Signaler un problème de sécurité
disclosure-policy = Politique de divulgation des vulnérabilités

## Évaluation

assessment-title = Évaluation de sécurité
failed = Exigences non respectées
failed-none = Aucune : l'appareil respecte toutes les exigences sur lesquelles il a été évalué.
failed-count = { $count ->
    [one] L'appareil ne respecte pas une exigence :
   *[other] L'appareil ne respecte pas { $count } exigences :
}
undecided = N'a pas pu être vérifié
assessed-by = Évalué par
assessed-by-value = { $assessor }, selon { $baseline } { $version } (niveau { $level })
assessor-mismatch = (le nom que le registre donne à la clé qui a signé cette étiquette; l'étiquette elle-même nomme un autre évaluateur, qui n'est pas affiché)
level-mandatory = « obligatoire »
level-mandatory-recommended = « obligatoire et recommandé »
assessment-date = Date de l'évaluation
issued-under = Délivrée sous l'égide de
validity = Étiquette valide
validity-value = du { $from } au { $until }
status = État
status-checked = au { $at }
status-active = En vigueur
status-support-ended = Soutien terminé
status-suspended = Suspendue
status-revoked = Révoquée ({ $reason })
status-superseded = Remplacée par { $by }
status-not-yet-valid = Pas encore en vigueur
status-expired = Expirée

## Ce que demande chaque groupe de dispositions du référentiel, en mots simples

group-5-1 = Mots de passe : aucun mot de passe par défaut commun à tous les appareils, et des connexions protégées contre les tentatives répétées
group-5-2 = Signalement des failles : le fabricant reçoit et traite les signalements de vulnérabilités
group-5-3 = Mises à jour logicielles : l'appareil peut être mis à jour de façon sécuritaire, pendant une période annoncée
group-5-4 = Secrets conservés : les clés et les mots de passe sont conservés de façon sécuritaire, jamais intégrés au logiciel
group-5-5 = Communications sécurisées : l'appareil protège ce qu'il transmet avec une cryptographie à jour
group-5-6 = Services exposés : les services réseau inutilisés et les ports de débogage sont désactivés
group-5-7 = Intégrité du logiciel : l'appareil vérifie que son propre logiciel n'a pas été altéré
group-5-8 = Sécurité des renseignements personnels : les renseignements personnels sont protégés pendant leur transmission et les capteurs sont documentés
group-5-9 = Résilience : l'appareil continue de fonctionner lors de pannes de réseau ou de courant
group-5-10 = Télémétrie : les données que l'appareil renvoie sont examinées pour y déceler des anomalies de sécurité
group-5-11 = Suppression de vos données : vous pouvez effacer vos données facilement
group-5-12 = Installation simple et sécuritaire : l'installation et l'entretien de l'appareil sont simples et documentés
group-5-13 = Vérification des données reçues : le logiciel de l'appareil vérifie les données qu'il reçoit
group-6 = Renseignements personnels : on vous dit quels renseignements sont recueillis et pourquoi, et votre consentement est obtenu correctement
group-unknown = Une exigence de ce référentiel

## Vue technique

tech-title = Renseignements supplémentaires et techniques
software-title = Logiciels évalués
software-component = Composant
software-version = Version
software-digest = SHA-256 de l'image
sbom-title = Nomenclature logicielle (SBOM)
sbom-yes = Le fabricant a fourni une nomenclature logicielle. Son SHA-256 :
sbom-no = Aucune nomenclature logicielle n'a été fournie avec cette étiquette.
data-title = Renseignements personnels
data-personal-yes = L'appareil ou son service traite des renseignements personnels.
data-personal-no = Ni l'appareil ni son service ne traitent de renseignements personnels.
data-deletion-yes = Vous pouvez supprimer vos données.
data-deletion-no = L'étiquette n'indique pas que vous pouvez supprimer vos données.
privacy-policy = Politique de confidentialité
network-title = Comportement réseau
mud-url = Fichier MUD (le comportement réseau déclaré de l'appareil)
mud-none = L'appareil ne déclare aucun fichier MUD.
verdicts-title = Verdict pour chaque disposition
verdicts-none = L'étiquette ne consigne aucun verdict.
verdict-pass = respectée
verdict-fail = non respectée
verdict-cannot-tell = n'a pas pu être tranchée
verdict-not-applicable = sans objet
assessment-method = Méthode
baseline = Référentiel
label-title = Étiquette et journal public
label-id = Identifiant de l'étiquette
label-schema = Schéma
label-digest = Empreinte de l'étiquette (SHA-256 des octets signés)
signing-key = Identifiant de la clé de signature
accreditation = Accréditation
log-entry = Entrée du journal
log-entry-value = entrée { $leaf } du journal public du registre
checkpoint = Point de contrôle
checkpoint-value = { $origin }, taille de l'arbre { $size }
checkpoint-root = Hachage racine
events-title = Historique au registre
events-none = Aucune déclaration sur cette étiquette n'a été consignée.
event-revoked = révoquée ({ $reason })
event-superseded = remplacée par { $by }
event-suspended = suspendue
event-reinstated = rétablie
event-support-end-changed = date de fin du soutien changée pour le { $date }
event-line = { $at } : { $what } (entrée { $leaf })
links-title = Autres renseignements
machine-readable = Étiquette lisible par machine, avec preuve
checkpoint-link = Le plus récent point de contrôle du registre
qr-caption = L'adresse contenue dans le code QR de cette étiquette :

## La page d'un code qui ne correspond à aucune étiquette (affichée dans les deux langues)

not-found-title = Cette étiquette n'existe pas
not-found-text = Ce registre ne contient aucune étiquette de sécurité pour ce code. L'étiquette ou le code QR que vous avez balayé n'est pas authentique, ou il a été mal saisi : ne vous y fiez pas. Demandez une étiquette authentique au vendeur ou au fabricant.
