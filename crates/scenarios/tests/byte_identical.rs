//! The generator's output is fixed: the same name and seed give the same bytes, and those
//! bytes are the ones the generator made before it moved out of `monitor` into this crate
//! (digests recorded from `monitor::scenarios` at commit 23d60e2, seeds 1 and 7). A change
//! that moves a single frame or random draw fails here; if it is meant, record new digests
//! and say why in the commit.

use sha2::{Digest, Sha256};

/// (scenario, seed, SHA-256 of the capture file, SHA-256 of the pretty-printed truth JSON).
const RECORDED: &[(&str, u64, &str, &str)] = &[
    (
        "home",
        1,
        "be5e3a71676dab7a852dcf3367166d0169c862a39418405f3133e10915ee9c78",
        "4d1d034cc1111d17874b93c179c26cfc744956d15ea0a7e2ae09eb445a1470b9",
    ),
    (
        "mirai",
        1,
        "24cbd8025984229aa25ba59eb5ce962e33241c7add582155a6e94f4cb77336c0",
        "5e3656475e00c663d8b4093692cae384c97b2b933c37d62cbcc0bfc63f6da481",
    ),
    (
        "traps",
        1,
        "710e140b73585824d9ff321b905ba9c2bc6bd8b71918602901f78052246f1b18",
        "5d726972fcd487e1c563195b641615eb0c8bfdfe10cde5afa386dc5f79c3eeed",
    ),
    (
        "inbound-syn-flood",
        1,
        "c81e7860e34b475aed6e074e29d489e3d89515bea9c05fca2b6d751ff14d57f5",
        "0245124b33fbe90983f3e0abecc429225fb51341a47e99ace66ee2296577684b",
    ),
    (
        "reflection-flood",
        1,
        "b553a5540fbc7f883c9823666e6dad73836cf2c1e2c340d37fee75f54ea83599",
        "6e940f83b39e858633b735480587a4d7412d2cefaf80ddfcec8e2c58e00588d2",
    ),
    (
        "port-scan",
        1,
        "88e93d499634f3fb6626574e05dc3248788d7e2c7d5ce94c40d396afb5556bd6",
        "2d9e6e33237f08e382a7c531fc68ee7fd013952374db3f4673d1fa06a6b9fe8a",
    ),
    (
        "host-sweep",
        1,
        "8df3fbbb0c9d76866453265a2bfc5e12485bf3db6d57ab4375c092b441fce5c0",
        "6c4485ab49feaa36d697c504ddb1edf6bcb2e26b5b8e06687361e7eb743cee6a",
    ),
    (
        "fallback-resolver",
        1,
        "8a7fb37131b7a7dc1d0aefdf326edd0ff79caf25377f2f35bb2bf24e2d87ab34",
        "b0f47f72513e77d3d37648e8f4093d75ffad438ef2e455b1af8e313519dde0ae",
    ),
    (
        "home",
        7,
        "307193b1471f97f587835067b2a5edc8833c384a74a8bf35bfd159c841b0f0ef",
        "2d2d0bc11775f47062bb2130a2f0fa52e874eef823116976c1cc305a3af1be82",
    ),
    (
        "mirai",
        7,
        "21c9a082e987f84fe5c232bda03defa3d12b645c9eca72e8ec10994440f5088d",
        "aa8e9ce2db1e6e38f3506a0e87c7f89a6faf20153a051de74a08ca8a763a8e14",
    ),
    (
        "traps",
        7,
        "1e76d757b4cd6c3caaa7c135a237f3ae92a69f96fab67e37fa759c5ae5d186ea",
        "e59a90272ae004019077563585525a8ec3fd6acadbac17b2df4ec981398ada00",
    ),
    (
        "inbound-syn-flood",
        7,
        "4a96e6a4ff16a1331d59337a283eec461b5af9a05724767a76f2083e521c8420",
        "55db92bfec0edf005beb73d0f15792046b58778e47f78c1807c9a67a18d6568c",
    ),
    (
        "reflection-flood",
        7,
        "662241bfb65f22203855e945e71498b6654f8122573fedff6850e044205e30a4",
        "445e94e09eeae185a22f6ab152e66c1ee56c376f3e628d90a1a304fc808876aa",
    ),
    (
        "port-scan",
        7,
        "bb72eed5a2921956df729da79d84dd46120701c9d297bc090b201713c7a5d418",
        "e2d385dc1feaff30dc2faf9f56486fbcf8b3502c764822c183868bbb8ac1645d",
    ),
    (
        "host-sweep",
        7,
        "0929cce67bb00ada86bb9850f92144734e4d785509d44263af180d2cf345e0c1",
        "c68848ad46ec55465ddc5ce92a5f52c36ee18930e6366a87f715ce75986dd4db",
    ),
    (
        "fallback-resolver",
        7,
        "d4b324d9b5dc727b24370cedcc9b39fb3ccbceec6b755f43dc9e64c5b5adb655",
        "9bdbd60719924d6bece58c6524e4f189133c767962357806279e88c05e5f8ab9",
    ),
];

#[test]
fn every_scenario_is_byte_identical_to_the_recorded_generator() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for &(name, seed, capture_digest, truth_digest) in RECORDED {
        let (truth, frames) = scenarios::build(name, seed).unwrap();
        let path = dir.path().join(&truth.capture);
        if truth.capture.ends_with(".pcapng") {
            scenarios::write_pcapng(&path, &frames).unwrap();
        } else {
            scenarios::write_pcap(&path, &frames).unwrap();
        }
        let got = hex::encode(Sha256::digest(std::fs::read(&path).unwrap()));
        assert_eq!(
            got, capture_digest,
            "{name} seed {seed}: capture bytes changed"
        );
        let json = serde_json::to_vec_pretty(&truth).unwrap();
        let got = hex::encode(Sha256::digest(&json));
        assert_eq!(
            got, truth_digest,
            "{name} seed {seed}: ground truth changed"
        );
        checked += 1;
    }
    let names = scenarios::SCENARIOS.len() + scenarios::DIRECTION_SCENARIOS.len();
    assert_eq!(checked, 2 * names, "every scenario at both seeds");
}

#[test]
fn write_all_writes_the_reference_scenarios_with_their_truth() {
    let dir = tempfile::tempdir().unwrap();
    let truths = scenarios::write_all(dir.path(), 1).unwrap();
    assert_eq!(truths.len(), scenarios::SCENARIOS.len());
    for t in &truths {
        let on_disk: scenarios::Truth = serde_json::from_slice(
            &std::fs::read(dir.path().join(format!("{}.truth.json", t.scenario))).unwrap(),
        )
        .unwrap();
        assert_eq!(&on_disk, t);
        assert!(dir.path().join(&t.capture).metadata().unwrap().len() > 24);
    }
    assert!(scenarios::build("no-such-scenario", 1).is_none());
}
