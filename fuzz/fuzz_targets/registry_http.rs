//! Registry request bodies and paths, through the real axum router (`registry::router`) on an
//! in-process SQLite registry holding one label: first byte picks the route (`fuzz::ROUTES`),
//! the rest is the POST body or the GET path tail / query string. A 500 is a bug (storage
//! errors must not come from request content).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&route, rest)) = data.split_first() else {
        return;
    };
    if let Some((status, body)) = fuzz::registry_request(route, rest) {
        assert_ne!(status, 500, "internal error: {}", String::from_utf8_lossy(&body));
    }
});
