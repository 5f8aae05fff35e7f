//! The worker threads one assessment may use, shared by the unpacker and the checks.
//!
//! Results always come back in the order of the inputs, so a report's bytes never depend on
//! how many threads ran or which thread did what. One thread means no pool at all: the work
//! runs on the caller's thread, in order.

use rayon::prelude::*;

/// A fixed number of worker threads (a private `rayon` pool, so an assessment never competes
/// with, or is slowed by, a global pool some other part of the process configured).
pub struct Workers {
    pool: Option<rayon::ThreadPool>,
}

impl Workers {
    /// `threads` workers; 0 and 1 both mean "on the caller's thread".
    pub fn new(threads: usize) -> Workers {
        let pool = (threads > 1).then(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("assess-{i}"))
                .build()
                .expect("starting the assessment's worker threads")
        });
        Workers { pool }
    }

    /// How many threads the work is spread over.
    pub fn threads(&self) -> usize {
        self.pool
            .as_ref()
            .map_or(1, rayon::ThreadPool::current_num_threads)
    }

    /// `f` over every item, results in input order. Items are handed out one at a time (the
    /// callers' items differ in cost by orders of magnitude), and an idle thread takes work
    /// from a busy one, so the threads finish together. The first items start first.
    pub fn map<T: Send, R: Send>(&self, items: Vec<T>, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
        match &self.pool {
            None => items.into_iter().map(f).collect(),
            Some(pool) => pool.install(|| items.into_par_iter().with_max_len(1).map(f).collect()),
        }
    }

    /// Run `a` and `b`, side by side when there is more than one thread.
    pub fn join<A: Send, B: Send>(
        &self,
        a: impl FnOnce() -> A + Send,
        b: impl FnOnce() -> B + Send,
    ) -> (A, B) {
        match &self.pool {
            None => (a(), b()),
            Some(pool) => pool.install(|| rayon::join(a, b)),
        }
    }
}
