# The consumer page of a label (crates/registry/src/page.rs), in English.
# fr.ftl holds the same message ids (a unit test checks it). Values from a label are
# passed as variables and the whole formatted text is HTML-escaped afterwards, so no
# message holds markup.

## Frame and navigation

page-title = Security label: { $model }
page-title-technical = Technical details: { $model }
overview = Security overview
technical = Technical details
# The link to the page in the other language, written in that language.
other-language = Français
language = Language:
about-title = About this label
about-text = This page shows the security label registered for this product in this registry's public log: how long the manufacturer promises security updates, how the device handles passwords and updates, and what its security assessment found.
technical-link = Technical details of this label
technical-intro = This page carries the technical details of the label, for technical users, researchers and anyone else who needs them.
overview-link = Back to the security overview

## Product

product = Product model
hardware-revision = Hardware revision
manufacturer = Manufacturer

## The state banner: a headline and what it means for the buyer

state-good-title = Passed its security assessment
state-good-text = Valid: the label is current, the device receives security updates and it passed its security assessment.
state-failed-title = FAILED its security assessment
state-failed-text = Does not conform: the label is genuine and current, but the device failed its security assessment. Check below which requirements it does not meet before you buy it or connect it.
state-not-assessed-title = Not assessed: this label proves nothing about security
state-not-assessed-text = The label is genuine and current, but it records no assessment, so it says nothing about the device's security.
state-revoked-title = Label revoked
state-revoked-text = Revoked: the registry has withdrawn this label for good (reason given: { $reason }). Do not rely on it: a security problem may have been found in the device. If you have not bought it yet, choose another product or ask the seller.
state-suspended-title = Label suspended
state-suspended-text = Suspended: the registry has paused this label while it looks into a problem. Until it is reinstated, do not rely on it as proof that the device is secure.
state-expired-title = Label expired
state-expired-text = Expired: this label was valid until { $until }. It no longer vouches for the device; ask the manufacturer for a current label before relying on it.
state-support-ended-title = Security updates have ended
state-support-ended-text = Support has ended: the manufacturer promised security updates only until { $end }. Security flaws found from now on will not be fixed, so think twice before buying this device or connecting it to your home network.
state-superseded-title = Replaced by a newer label
state-superseded-text = A newer label ({ $by }) replaces this one. Look up the newer label: this one may no longer describe the device's current software.
state-not-yet-valid-title = Label not yet valid
state-not-yet-valid-text = This label only takes effect on { $from }. Until then, do not rely on it.
also-failed = The device also failed its security assessment.

## Security mechanisms

security-title = Security mechanisms
support = Security updates
support-until = At least until
support-ended-on = Ended after
update-mode = Getting updates
update-automatic = Installed automatically
update-user-initiated = Offered to you, installed when you accept them
update-manual = You download and install them yourself
update-none = This device cannot be updated
update-unknown = Not stated
access-control = Default passwords
credentials-unique-per-device = No shared default password: each device comes with its own unique password
credentials-user-set = No default password: you choose your own before first use
credentials-none = No passwords: the device has no login
credentials-unknown = Not stated
report-problem = Report a security problem
disclosure-policy = Vulnerability disclosure policy

## Assessment

assessment-title = Security assessment
failed = Requirements not met
failed-none = None: the device meets every requirement it was assessed against.
failed-count = { $count ->
    [one] The device fails one requirement:
   *[other] The device fails { $count } requirements:
}
undecided = Could not be checked
assessed-by = Assessed by
assessed-by-value = { $assessor } against { $baseline } { $version } ({ $level })
assessor-mismatch = (the registry's name for the key that signed this label; the label itself names another assessor, which is not shown)
level-mandatory = mandatory
level-mandatory-recommended = mandatory and recommended
assessment-date = Assessment date
issued-under = Issued under
validity = Label valid
validity-value = from { $from } to { $until }
status = Status
status-checked = as of { $at }
status-active = Active
status-support-ended = Support has ended
status-suspended = Suspended
status-revoked = Revoked ({ $reason })
status-superseded = Replaced by { $by }
status-not-yet-valid = Not yet valid
status-expired = Expired

## What each group of baseline provisions asks, in plain words

group-5-1 = Passwords: no default password shared by every unit, and logins protected against guessing
group-5-2 = Reporting security flaws: the manufacturer takes and handles reports of vulnerabilities
group-5-3 = Software updates: the device can be updated securely, for a stated period
group-5-4 = Stored secrets: keys and passwords are stored securely, never built into the software
group-5-5 = Secure communication: the device protects what it sends with current cryptography
group-5-6 = Exposed services: unused network services and debug ports are turned off
group-5-7 = Software integrity: the device checks that its own software has not been tampered with
group-5-8 = Personal data security: personal data is protected in transit and sensors are documented
group-5-9 = Resilience: the device keeps working through network and power outages
group-5-10 = Telemetry: data the device sends back is examined for security anomalies
group-5-11 = Deleting your data: you can erase your data easily
group-5-12 = Easy, secure setup: installing and maintaining the device is simple and documented
group-5-13 = Input checking: the device's software checks the data it receives
group-6 = Personal data: you are told what personal data is collected and why, and consent is obtained properly
group-unknown = A requirement of this baseline

## Technical view

tech-title = Additional and technical information
software-title = Software assessed
software-component = Component
software-version = Version
software-digest = SHA-256 of the image
sbom-title = Software bill of materials (SBOM)
sbom-yes = The manufacturer supplied a software bill of materials. Its SHA-256:
sbom-no = No software bill of materials was supplied with this label.
data-title = Personal data
data-personal-yes = The device or its service processes personal data.
data-personal-no = The device and its service process no personal data.
data-deletion-yes = You can delete your data.
data-deletion-no = The label does not say that you can delete your data.
privacy-policy = Privacy policy
network-title = Network behaviour
mud-url = MUD file (the device's declared network behaviour)
mud-none = The device declares no MUD file.
verdicts-title = Verdict on each provision
verdicts-none = The label records no verdicts.
verdict-pass = pass
verdict-fail = fail
verdict-cannot-tell = could not be decided
verdict-not-applicable = not applicable
assessment-method = Method
baseline = Baseline
label-title = Label and public log
label-id = Label id
label-schema = Schema
label-digest = Label digest (SHA-256 of the signed bytes)
signing-key = Signing key id
accreditation = Accreditation
log-entry = Log entry
log-entry-value = entry { $leaf } of the registry's public log
checkpoint = Checkpoint
checkpoint-value = { $origin }, tree size { $size }
checkpoint-root = Root hash
events-title = Registry history
events-none = No statement about this label has been logged.
event-revoked = revoked ({ $reason })
event-superseded = replaced by { $by }
event-suspended = suspended
event-reinstated = reinstated
event-support-end-changed = support end date changed to { $date }
event-line = { $at }: { $what } (entry { $leaf })
links-title = Other information
machine-readable = Machine-readable label with proof
checkpoint-link = The registry's latest checkpoint
qr-caption = The address in this label's QR code:

## The page for a code that names no label (shown in both languages)

not-found-title = No such label
not-found-text = This registry holds no security label for this code. The label or QR code you scanned is not genuine, or it was mistyped: do not rely on it. Ask the seller or the manufacturer for a genuine label.
