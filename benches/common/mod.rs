//! What the benchmarks share: their corpora.

use std::path::Path;

use mr_local::generate::CorpusConfig;

/// `../shared/datasets/kjvbible.txt` (where present) and 16 MiB of the
/// generated Zipf corpus, by name.
pub fn corpora() -> Vec<(&'static str, Vec<u8>)> {
    let mut corpora = Vec::new();
    let kjv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/kjvbible.txt");
    match std::fs::read(&kjv) {
        Ok(bytes) => corpora.push(("kjvbible", bytes)),
        Err(_) => eprintln!("skipping kjvbible: {} not found", kjv.display()),
    }
    let mut zipf = Vec::new();
    CorpusConfig::default()
        .write_corpus(16 << 20, &mut zipf)
        .expect("generate corpus");
    corpora.push(("zipf-16m", zipf));
    corpora
}
