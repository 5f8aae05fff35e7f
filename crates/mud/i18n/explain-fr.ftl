# « mud explain » en français (usage québécois) : ce qu’un appareil qui a ce fichier MUD peut
# faire, pour un ménage. Chaque destinataire se décline selon la préposition qui le précède
# ($role : to → à, from → de, with → avec) pour les contractions (au, aux, du, des).

this-device = Cet appareil
published = Règles réseau publiées par { $authority } ({ $url }).
unsupported = ATTENTION : le fabricant indique que cet appareil n’est plus pris en charge. Il ne recevra plus de correctifs de sécurité; songez à le remplacer.
nothing = Il ne peut pas utiliser le réseau du tout.
may-intro = Ce qu’il peut faire sur votre réseau :
everything-else = Tout le reste est bloqué.
rule-may = Peut { $what }.
rule-blocked = Bloqué explicitement : { $what }.

what-talk = communiquer { $peer }
what-exchange = échanger du trafic { $proto } { $peer }
what-connect = se connecter { $peer }{ $port }
what-tcp-from-port = envoyer du trafic TCP { $peer } depuis { $port }
what-accept = accepter les connexions { $peer }{ $port }
what-tcp-sent-from = recevoir du trafic TCP { $peer } envoyé depuis { $port }
what-udp-send = envoyer des messages UDP { $peer }{ $port }
what-udp-receive = recevoir des messages UDP { $peer }{ $port }
what-proto-send = envoyer du trafic { $proto } { $peer }
what-proto-receive = recevoir du trafic { $proto } { $peer }
what-frames-send = envoyer des trames { $kind } { $peer }
what-frames-receive = recevoir des trames { $kind } { $peer }
what-any-send = envoyer n’importe quel type de trafic { $peer }
what-any-receive = recevoir n’importe quel type de trafic { $peer }
what-ping = envoyer des pings { $peer }
what-ping-replies = recevoir les réponses aux pings { $peer }
what-pinged = recevoir des pings { $peer }
what-answer-pings = répondre aux pings { $peer }
what-icmp-send = envoyer des messages de contrôle réseau (ICMP) { $peer }
what-icmp-receive = recevoir des messages de contrôle réseau (ICMP) { $peer }

started-by-device = — seulement les connexions qu’il ouvre lui-même
started-by-them = — seulement les connexions qu’ils ouvrent
within-device = — seulement dans les connexions que l’appareil ouvre lui-même
within-them = — seulement dans les connexions qu’ils ouvrent

peer-any = { $role ->
    [to] à n’importe quelle adresse
    [from] de n’importe quelle adresse
   *[with] avec n’importe quelle adresse
}
peer-dns = { $role ->
    [to] à { $name }
    [from] de { $name }
   *[with] avec { $name }
}
peer-manufacturer = { $role ->
    [to] aux appareils fabriqués par { $name } sur votre réseau domestique
    [from] des appareils fabriqués par { $name } sur votre réseau domestique
   *[with] avec les appareils fabriqués par { $name } sur votre réseau domestique
}
peer-same-manufacturer = { $role ->
    [to] aux autres appareils du même fabricant ({ $name }) sur votre réseau domestique
    [from] des autres appareils du même fabricant ({ $name }) sur votre réseau domestique
   *[with] avec les autres appareils du même fabricant ({ $name }) sur votre réseau domestique
}
peer-model = { $role ->
    [to] aux appareils du même type que { $name } sur votre réseau domestique
    [from] des appareils du même type que { $name } sur votre réseau domestique
   *[with] avec les appareils du même type que { $name } sur votre réseau domestique
}
peer-local = { $role ->
    [to] aux appareils de votre réseau domestique
    [from] des appareils de votre réseau domestique
   *[with] avec les appareils de votre réseau domestique
}
peer-dns-server = { $role ->
    [to] au serveur de noms (DNS) de votre réseau
    [from] du serveur de noms (DNS) de votre réseau
   *[with] avec le serveur de noms (DNS) de votre réseau
}
peer-ntp-server = { $role ->
    [to] au serveur de temps (NTP) de votre réseau
    [from] du serveur de temps (NTP) de votre réseau
   *[with] avec le serveur de temps (NTP) de votre réseau
}
peer-controller = { $role ->
    [to] aux contrôleurs de type « { $name } » que vous avez configurés
    [from] des contrôleurs de type « { $name } » que vous avez configurés
   *[with] avec les contrôleurs de type « { $name } » que vous avez configurés
}
peer-my-controller = { $role ->
    [to] au contrôleur que vous avez configuré pour cet appareil
    [from] du contrôleur que vous avez configuré pour cet appareil
   *[with] avec le contrôleur que vous avez configuré pour cet appareil
}
peer-broadcast = { $role ->
    [to] à tous les appareils de votre réseau local (diffusion)
    [from] de tous les appareils de votre réseau local (diffusion)
   *[with] avec tous les appareils de votre réseau local (diffusion)
}
peer-multicast-group = { $role ->
    [to] au groupe de multidiffusion local { $name }
    [from] du groupe de multidiffusion local { $name }
   *[with] avec le groupe de multidiffusion local { $name }
}
peer-multicast-groups = { $role ->
    [to] aux groupes de multidiffusion de { $name }
    [from] des groupes de multidiffusion de { $name }
   *[with] avec les groupes de multidiffusion de { $name }
}
peer-address = { $role ->
    [to] à l’adresse { $name }
    [from] de l’adresse { $name }
   *[with] avec l’adresse { $name }
}
peer-addresses = { $role ->
    [to] aux adresses de { $name }
    [from] des adresses de { $name }
   *[with] avec les adresses de { $name }
}

port-eq = port { $n }
port-eq-named = port { $n } ({ $service })
port-range = ports { $lo } à { $hi }
port-neq = n’importe quel port sauf le { $n }
port-lte = ports jusqu’à { $n }
port-gte = ports { $n } et plus
# $kind : one (un port), many (des ports), any (« n’importe quel port sauf »).
the-port = { $kind ->
    [many] les { $port }
    [any] { $port }
   *[one] le { $port }
}
its-port = { $kind ->
    [many] ses { $port }
    [any] { $port }
   *[one] son { $port }
}
on-port = sur { $port }

service-22 = connexion à distance SSH
service-23 = connexion à distance Telnet
service-53 = DNS
service-67 = attribution d’adresse DHCP
service-80 = HTTP
service-123 = heure NTP
service-443 = HTTPS
service-547 = attribution d’adresse DHCPv6
service-1883 = MQTT
service-1900 = découverte d’appareils SSDP
service-5353 = découverte d’appareils mDNS
service-5683 = CoAP
service-5684 = CoAP sur DTLS
service-8883 = MQTT sur TLS

proto-0 = IPv6 saut par saut
proto-2 = IGMP (multidiffusion)
proto-47 = de tunnel GRE
proto-50 = IPsec
proto-other = du protocole IP { $n }

ether-local = de réseau local
ether-0800 = IPv4
ether-0806 = ARP
ether-86dd = IPv6
ether-888e = EAPOL (connexion au réseau)
ether-88cc = LLDP
ether-other = Ethernet de type { $hex }
