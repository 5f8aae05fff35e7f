# The household dashboard, in English. French is fr.ftl: keep the two files' messages alike.
app-title = Your home network
nav-home = Devices
nav-events = Events
nav-logout = Sign out
lang-other = Français
lang-other-code = fr

login-title = Sign in
login-intro = This page shows and changes what the devices in your home may do. Only the owner can sign in.
login-password = Password
login-submit = Sign in
login-wrong = Wrong password.
login-slow = Too many wrong passwords. Try again in { $seconds } seconds.
setup-title = Choose the owner's password
setup-intro = No password is set yet. The gateway printed a one-time code in its log when it started: enter it with the password you choose.
setup-code = One-time code
setup-new = New password (at least { $min } characters)
setup-submit = Set the password
setup-bad-code = That one-time code is not right.
setup-short = The password needs at least { $min } characters.
setup-done = The password is set. Sign in with it.

home-title = Devices at home
home-none = The gateway has not seen any device yet.
home-new = New
home-new-explain = New: is this device yours? Approve it or block it.
home-stale = The gateway is not running: what you see is from { $time }.
home-blocked = { $count ->
    [0] Nothing blocked in the last 24 hours
    [one] 1 packet blocked in the last 24 hours
   *[other] { $count } packets blocked in the last 24 hours
}

level-declared = As its maker declared
level-default = Internet only
level-update-only = Updates only
level-isolated = Isolated
level-trusted = Trusted

sentence-declared = Only what { $maker } declared it needs.
sentence-default = Internet only, nothing else at home: { $why }.
sentence-update-only = Only updates: { $why }.
sentence-isolated = Isolated at { $time }: { $what }
sentence-isolated-owner = Isolated by you at { $time }, until you release it.
sentence-trusted = You trust it: the internet and the other devices at home.
sentence-released = Released by you until { $time }; then it is isolated again.

cause-no-mud-url = its maker published no profile for it
cause-mud-pending = its maker's profile is being checked
cause-no-mud-file = its maker's profile could not be fetched
cause-mud-url-changed = it announced a different profile than before
cause-label-revoked = its security label was revoked
cause-label-suspended = its security label is suspended
cause-firmware-revoked = the security label of its software was revoked
cause-firmware-suspended = the security label of its software is suspended
cause-support-ended = its maker no longer supports it
cause-label-expired = its security label has expired
cause-label-answer-refused = the registry's answer about its label could not be verified
cause-not-supported = its maker says it is no longer supported
cause-no-label = its maker's profile is verified but it has no security label
cause-refused = its maker's profile did not pass its checks ({ $code })
cause-other = { $code }

label-active = Label valid
label-revoked = Label revoked
label-none = No label
label-problem = Label not verified
label-suspended = Label suspended
label-support-ended = Support ended
label-expired = Label expired
label-superseded = Label replaced
label-not-yet-valid = Label not yet valid
label-not-asked = Label not checked yet
label-other = Label: { $status }

device-title = { $name }
device-may = What it may do
device-may-declared = It may reach only what its maker's profile lists; everything else is blocked.
device-may-default = It may use the internet for the web and its apps, but nothing else in your home can reach it, and it cannot reach them.
device-may-update-only = It may only fetch updates from its maker and ask for names (DNS). Everything else is blocked.
device-may-isolated = It may only get an address and ask for names (DNS) from the gateway. Everything else is blocked.
device-may-trusted = It may use the internet and the other devices at home, as on an ordinary home router. From the internet, only answers to what it asked come in.
device-profile = Its maker's profile
device-profile-none = none announced
device-profile-verified = verified, signed by { $signer }
device-profile-state = { $state }
device-label = Its security label
device-label-status = Status
device-label-product = Product
device-label-support-end = Security updates promised until
device-label-update-mode = How it gets its updates
update-mode-automatic = by itself, automatically
update-mode-user-initiated = when you accept them
update-mode-manual = only if you download and install them yourself
update-mode-none = never: it cannot be updated
device-label-failing = What the assessment found missing
device-label-undecided = What the assessment could not check
device-label-assessor = Assessed by
device-label-page = See the label
device-label-checked = Checked with the registry at { $time }
device-label-unreachable = The registry could not be reached since { $time }; the last verified answer is used.
device-facts = About this device
device-mac = Hardware address
device-vendor = Maker (from its hardware address)
device-hostname = Name it gives itself
device-addresses = Addresses
device-first-seen = First seen
device-events = What happened
device-no-events = Nothing yet.
device-evidence = { $count ->
    [one] 1 packet kept as evidence
   *[other] { $count } packets kept as evidence
}
device-exceptions = What you allowed it besides
device-exceptions-none = Nothing more than its level allows. You can let it reach one more destination below.
device-exceptions-intro = You let it reach these destinations, beside what its level allows:
device-exception-held = (not while it is isolated)
device-exception-unneeded = (not needed while you trust it)
device-traffic = What the gateway counted
device-traffic-summary = Since the gateway started: { $allowed } packets let through, { $blocked } blocked ({ $day } in the last 24 hours).
device-traffic-rules = Rule by rule
device-traffic-rule = Rule
device-traffic-direction = Direction
device-traffic-out = from the device
device-traffic-in = to the device
device-traffic-allowed = Let through
device-traffic-blocked = Blocked
device-actions = What you can do
device-unknown = The gateway holds no device with that address.

action-allow = Allow
action-allow-destination = One more destination (a name or an address)
action-allow-proto = Protocol
action-allow-any = any
action-allow-port = Port (optional)
action-disallow = Take away
action-release = Release now
action-release-hour = Release for one hour
action-isolate = Isolate now
action-block = Block
action-approve = It's mine
action-trust = Trust it (a laptop, a phone)
action-untrust = Stop trusting it
action-rename = Rename
action-rename-field = Name
action-forget = Forget this device

done-release = Released.
done-release-hour = Released for one hour; then it will be isolated again.
done-isolate = Isolated.
done-block = Blocked.
done-approve = Marked as yours.
done-trust = Trusted.
done-untrust = No longer trusted.
done-rename = Renamed.
done-allow = Allowed. The destination opens for this device only.
done-disallow = Taken away.
done-forget = Forgotten. It will show up as a new device if it connects again.
err-not-running = The gateway is not running: nothing was changed.
err-not-quarantined = This device is not isolated.
err-no-answer = The gateway did not answer in time; it will do it as soon as it can.
err-invalid = That is not possible: { $detail }
err-other = The gateway did not do it: { $detail }

events-title = Events
events-week = The last seven days
events-week-summary = { $quarantines ->
    [one] 1 isolation
   *[other] { $quarantines } isolations
}, { $new ->
    [one] 1 new device
   *[other] { $new } new devices
}, { $owner ->
    [one] 1 change by you
   *[other] { $owner } changes by you
}.
events-filter-device = Device
events-filter-all = All devices
events-filter-kind = What
events-filter-every-kind = everything
events-kind-quarantine = isolations and releases
events-kind-devices = devices arriving and leaving
events-kind-owner = what you did
events-kind-profile = makers' profiles and labels
events-filter-submit = Show
events-none = No event.
events-more = Older events are not shown.

journal-contain = First seen, held at “{ $level }”
journal-level = Now “{ $level }”
journal-quarantine = Isolated
journal-release = Released by you
journal-release-for = Released by you until { $time }
journal-expire = Its isolation ended
journal-resume = Isolated again: your release ended
journal-evict = Removed to make room (idle)
journal-refused = The firewall refused a change; held at “{ $level }”
journal-retry = The firewall took the change
journal-trust = You trust it
journal-untrust = You stopped trusting it
journal-mud = Its maker's profile: now “{ $level }”
journal-label = Its security label: now “{ $level }”
journal-rename = You named it “{ $name }”
journal-rename-clear = You took its name away
journal-approve = You said it is yours
journal-forget = You removed it
journal-allow = You allowed it { $destination }
journal-disallow = You no longer allow it { $destination }
journal-by-owner = by you

alert-new-device = New device at home: { $name }
alert-quarantine = { $name } was isolated
alert-label-revoked = { $name }: its security label was withdrawn
alert-support-ended = { $name }: no more security updates
alert-more-title = More alerts from your gateway
alert-more = { $count ->
    [one] 1 more alert was held back to avoid flooding you; see the dashboard's events.
   *[other] { $count } more alerts were held back to avoid flooding you; see the dashboard's events.
}
