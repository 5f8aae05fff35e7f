# `mud explain` in English: what a device with this MUD file may do, for a household.
# $role (to, from, with) is the preposition the French text needs; English sentences carry
# their own prepositions and ignore it.

this-device = This device
published = Network rules published by { $authority } ({ $url }).
unsupported = WARNING: the manufacturer says this device is no longer supported. It will not get security fixes; consider replacing it.
nothing = It may not use the network at all.
may-intro = What it may do on your network:
everything-else = Everything else is blocked.
rule-may = May { $what }.
rule-blocked = Explicitly blocked: { $what }.

what-talk = talk to { $peer }
what-exchange = exchange { $proto } traffic with { $peer }
what-connect = connect to { $peer }{ $port }
what-tcp-from-port = send TCP traffic to { $peer } from { $port }
what-accept = accept connections from { $peer }{ $port }
what-tcp-sent-from = receive TCP traffic from { $peer } sent from { $port }
what-udp-send = send UDP messages to { $peer }{ $port }
what-udp-receive = receive UDP messages from { $peer }{ $port }
what-proto-send = send { $proto } traffic to { $peer }
what-proto-receive = receive { $proto } traffic from { $peer }
what-frames-send = send { $kind } frames to { $peer }
what-frames-receive = receive { $kind } frames from { $peer }
what-any-send = send any kind of traffic to { $peer }
what-any-receive = receive any kind of traffic from { $peer }
what-ping = ping { $peer }
what-ping-replies = get ping replies from { $peer }
what-pinged = be pinged by { $peer }
what-answer-pings = answer pings from { $peer }
what-icmp-send = send network control messages (ICMP) to { $peer }
what-icmp-receive = receive network control messages (ICMP) from { $peer }

started-by-device = — only connections it starts itself
started-by-them = — only connections they start
within-device = — only within connections the device starts itself
within-them = — only within connections they start

peer-any = any address
peer-dns = { $name }
peer-manufacturer = devices made by { $name } on your home network
peer-same-manufacturer = other devices from the same manufacturer ({ $name }) on your home network
peer-model = devices of the same kind as { $name } on your home network
peer-local = devices on your home network
peer-dns-server = your network's name server (DNS)
peer-ntp-server = your network's time server (NTP)
peer-controller = controllers of the kind "{ $name }" that you set up
peer-my-controller = the controller you set up for this device
peer-broadcast = everyone on your local network (broadcast)
peer-multicast-group = the local multicast group { $name }
peer-multicast-groups = multicast groups in { $name }
peer-address = the address { $name }
peer-addresses = addresses in { $name }

port-eq = port { $n }
port-eq-named = port { $n } ({ $service })
port-range = ports { $lo } to { $hi }
port-neq = any port except { $n }
port-lte = ports up to { $n }
port-gte = ports { $n } and above
# $kind: one (a port), many (ports), any (a port "other than").
the-port = { $port }
its-port = its { $port }
on-port = on { $port }

service-22 = SSH remote login
service-23 = Telnet remote login
service-53 = DNS
service-67 = DHCP address assignment
service-80 = HTTP
service-123 = NTP time
service-443 = HTTPS
service-547 = DHCPv6 address assignment
service-1883 = MQTT
service-1900 = SSDP device discovery
service-5353 = mDNS device discovery
service-5683 = CoAP
service-5684 = CoAP over DTLS
service-8883 = MQTT over TLS

proto-0 = IPv6 hop-by-hop
proto-2 = IGMP multicast membership
proto-47 = GRE tunnel
proto-50 = IPsec
proto-other = IP protocol { $n }

ether-local = local network
ether-0800 = IPv4
ether-0806 = ARP
ether-86dd = IPv6
ether-888e = EAPOL (network log-in)
ether-88cc = LLDP
ether-other = Ethernet type { $hex }
