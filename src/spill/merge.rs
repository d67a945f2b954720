//! The k-way merge of one partition: its in-memory pairs, sorted, and its
//! segment of every run, each already sorted, through a binary heap of the
//! sources' next pairs.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::error::Error;
use crate::pairs::Combiner;
use crate::partition::Order;
use crate::spill::run::SegmentReader;
use crate::spill::{Codec, Segment};

/// A source's next pair, ordered so that the heap's top is the smallest
/// key, and among equal keys the earliest source.
struct Head<K, V> {
    key: K,
    value: V,
    source: usize,
    order: Order<K>,
}

impl<K, V> PartialEq for Head<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<K, V> Eq for Head<K, V> {}

impl<K, V> PartialOrd for Head<K, V> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K, V> Ord for Head<K, V> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.order)(&other.key, &self.key).then(other.source.cmp(&self.source))
    }
}

enum Source<K, V> {
    Memory(std::vec::IntoIter<(K, V)>),
    Run(SegmentReader<K, V>),
}

impl<K, V> Source<K, V> {
    fn next(&mut self) -> Option<Result<(K, V), Error>> {
        match self {
            Source::Memory(pairs) => pairs.next().map(Ok),
            Source::Run(reader) => reader.next(),
        }
    }
}

/// The pairs of one partition in key order.
pub(crate) struct Merge<K, V> {
    sources: Vec<Source<K, V>>,
    heap: BinaryHeap<Head<K, V>>,
    order: Order<K>,
    failed: bool,
}

impl<K, V> Merge<K, V> {
    /// A merge of `memory` (sorted here) with `segments`.
    pub fn new(
        mut memory: Vec<(K, V)>,
        segments: &[Segment],
        codec: &Codec<K, V>,
    ) -> Result<Self, Error> {
        let order = codec.order;
        memory.sort_by(|a, b| order(&a.0, &b.0));
        let mut sources = vec![Source::Memory(memory.into_iter())];
        for segment in segments {
            sources.push(Source::Run(SegmentReader::open(segment.clone(), codec)?));
        }
        let mut merge = Merge {
            heap: BinaryHeap::with_capacity(sources.len()),
            sources,
            order,
            failed: false,
        };
        for source in 0..merge.sources.len() {
            merge.refill(source)?;
        }
        Ok(merge)
    }

    fn refill(&mut self, source: usize) -> Result<(), Error> {
        if let Some(next) = self.sources[source].next() {
            let (key, value) = next?;
            self.heap.push(Head {
                key,
                value,
                source,
                order: self.order,
            });
        }
        Ok(())
    }

    /// Whether `a` and `b` are the same key.
    pub fn same(&self, a: &K, b: &K) -> bool {
        (self.order)(a, b) == Ordering::Equal
    }
}

impl<K, V> Iterator for Merge<K, V> {
    type Item = Result<(K, V), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let head = self.heap.pop()?;
        if let Err(err) = self.refill(head.source) {
            self.failed = true;
            return Some(Err(err));
        }
        Some(Ok((head.key, head.value)))
    }
}

/// A merge with runs of equal keys folded into one pair, lazily.
pub(crate) struct Folding<'f, K, V> {
    merge: Merge<K, V>,
    fold: &'f Combiner<'f, V>,
    pending: Option<(K, V)>,
}

impl<'f, K, V> Folding<'f, K, V> {
    pub fn new(merge: Merge<K, V>, fold: &'f Combiner<'f, V>) -> Self {
        Folding {
            merge,
            fold,
            pending: None,
        }
    }
}

impl<K, V> Iterator for Folding<'_, K, V> {
    type Item = Result<(K, V), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.merge.next() {
                Some(Ok((key, value))) => match &mut self.pending {
                    Some((last, acc)) if self.merge.same(last, &key) => (self.fold)(acc, value),
                    pending => {
                        if let Some(done) = pending.replace((key, value)) {
                            return Some(Ok(done));
                        }
                    }
                },
                Some(Err(err)) => return Some(Err(err)),
                None => return self.pending.take().map(Ok),
            }
        }
    }
}

/// Folds runs of equal keys in `merge` with `fold`: one pair per key, in
/// key order.
pub(crate) fn fold<K, V>(
    mut merge: Merge<K, V>,
    fold: impl Fn(&mut V, V),
) -> Result<Vec<(K, V)>, Error> {
    let mut out: Vec<(K, V)> = Vec::new();
    while let Some(next) = merge.next() {
        let (key, value) = next?;
        match out.last_mut() {
            Some((last, acc)) if merge.same(last, &key) => fold(acc, value),
            _ => out.push((key, value)),
        }
    }
    Ok(out)
}

/// Hands each run of equal keys in `merge` to `each`, with its values, in
/// key order.
pub(crate) fn group<K, V>(
    mut merge: Merge<K, V>,
    mut each: impl FnMut(K, Vec<V>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut current: Option<(K, Vec<V>)> = None;
    while let Some(next) = merge.next() {
        let (key, value) = next?;
        match &mut current {
            Some((last, values)) if merge.same(last, &key) => values.push(value),
            _ => {
                if let Some((key, values)) = current.replace((key, vec![value])) {
                    each(key, values)?;
                }
            }
        }
    }
    if let Some((key, values)) = current {
        each(key, values)?;
    }
    Ok(())
}
