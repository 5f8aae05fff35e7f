//! A signed note / checkpoint (from a registry's /checkpoint, a bundle, the gateway's cache):
//! note parse + verify, checkpoint parse, and the log verifier; plus verifier key text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let keys = [fuzz::log_signer().verifier_key()];
    if let Ok(note) = tlog::Note::parse(data) {
        // The strict parser accepts one encoding of a note: it writes back byte for byte.
        assert_eq!(note.to_text().as_bytes(), data, "note round trip");
        let _ = note.verify(&keys);
        let _ = note.signatures();
    }
    let _ = tlog::note::open(data, &keys);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cp) = tlog::Checkpoint::parse(text) {
            assert_eq!(cp.to_text().unwrap(), text, "checkpoint round trip");
        }
        let _ = tlog::VerifierKey::parse(text.trim_end());
        let _ = tlog::LogVerifier::parse(text.trim_end());
    }
    let _ = fuzz::log_verifier().verify_checkpoint(data);
});
