//! How a specified run runs: the routing of its keys (sampling key ranges
//! first where it asks for them) and the pass handed to the engine.

use super::{MapReduce, Partition};
use crate::counters::{Counters, SkipLog};
use crate::error::Error;
use crate::exec::Pass;
use crate::input::split;
use crate::map::{Absorb, Folder, Mapper};
use crate::pairs::Combiner;
use crate::partition::{sample_bounds, KeyRanges, Partitioner, Route};
use crate::reduce::{Output, ReduceInput};

/// One split in this many, evenly spaced, is mapped to sample keys for
/// [`MapReduce::partition_by_sampled_ranges`] (at least one)...
const SAMPLE_EVERY: usize = 16;
/// ...but no more than this many splits, nor this many bytes of them...
const SAMPLE_SPLITS: usize = 16;
const SAMPLE_BYTES: usize = 64 << 20;
/// ...and at most this many of their keys are kept.
const SAMPLE_KEYS: usize = 100_000;

impl<'j, 'd, M: Mapper<'d>> MapReduce<'j, 'd, M> {
    /// Runs the job, collecting each partition's pairs into an [`Output`].
    pub(super) fn run<R: Send>(
        &self,
        combiner: Option<&Combiner<'_, M::Value>>,
        absorb: Option<&dyn Absorb<M::Key, M::Value>>,
        reduce: impl Fn(
                usize,
                ReduceInput<'_, M::Key, M::Value>,
                &SkipLog,
            ) -> Result<Vec<(M::Key, R)>, Error>
            + Sync,
    ) -> Result<Output<M::Key, R>, Error> {
        let (parts, counters) = self.run_with(combiner, absorb, |partition, input, log| {
            let pairs = reduce(partition, input, log)?;
            let len = pairs.len() as u64;
            Ok((pairs, len))
        })?;
        Ok(Output::new(parts, counters))
    }

    pub(super) fn run_with<P: Send>(
        &self,
        combiner: Option<&Combiner<'_, M::Value>>,
        absorb: Option<&dyn Absorb<M::Key, M::Value>>,
        reduce: impl Fn(usize, ReduceInput<'_, M::Key, M::Value>, &SkipLog) -> Result<(P, u64), Error>
            + Sync,
    ) -> Result<(Vec<P>, Counters), Error> {
        let job = self.job;
        self.inputs.check_not_streamed()?;
        let streams = self.chunks.is_some() && job.records().streams();
        if !streams {
            // Compressed files of several members decode on the pool.
            let parallel = job.threads() > 1;
            job.engine
                .pool
                .install(|| self.inputs.read_open_inputs(parallel))?;
        } else if matches!(self.partition, Partition::Sampled) {
            // Sampling maps splits before the map phase: of open inputs,
            // their first records, read ahead and held for the run.
            // A quarter of the budget shared by them all: an input that
            // fits its share is held whole and sampled whole; a larger
            // one is sampled by its head.
            let heads = job.memory() / 4;
            self.inputs
                .read_heads(job.records(), heads, job.engine.chunk_size())?;
        }
        let splits = split::plan(self.inputs, job.split_size_for(self.inputs), job.records());
        let sampled;
        let route = match &self.partition {
            Partition::Hash => Route::Hash(Partitioner::new(job.partitions())),
            Partition::Custom(partition) => Route::Custom {
                partition: &**partition,
                partitions: job.partitions(),
            },
            Partition::Ranges(ranges) => Route::Ranges(ranges, 1),
            Partition::Sampled => {
                sampled = self.sample_ranges(&splits)?;
                Route::Ranges(&sampled, job.partitions())
            }
        };
        let pass = Pass::new(self.inputs, &splits, &self.mapper, &route)
            .combiner(combiner)
            .absorb(absorb)
            .spill(self.codec)
            .stream(self.chunks.filter(|_| streams));
        job.engine.run(&pass, reduce)
    }

    /// Maps a sample of the splits and takes key ranges from the keys.
    fn sample_ranges(&self, splits: &[split::Split]) -> Result<KeyRanges<M::Key>, Error> {
        let order = self
            .order
            .expect("partition_by_sampled_ranges sets the order");
        let split_size = self.job.split_size_for(self.inputs).max(1);
        let most = (SAMPLE_BYTES / split_size).clamp(1, SAMPLE_SPLITS);
        let wanted = (splits.len() / SAMPLE_EVERY).clamp(1, most);
        let step = splits.len().div_ceil(wanted).max(1);
        let sample: Vec<split::Split> = splits.iter().step_by(step).cloned().collect();
        let one = Route::Hash(Partitioner::new(1));
        let pass = Pass::new(self.inputs, &sample, &self.mapper, &one).quiet();
        let (parts, _) = self.job.engine.run(&pass, |_, input, _| {
            let pairs: Vec<_> = input.chunks.into_iter().flatten().collect();
            let len = pairs.len() as u64;
            Ok((pairs, len))
        })?;
        let pairs: Vec<(M::Key, M::Value)> = parts.into_iter().flatten().collect();
        let keep = pairs.len().div_ceil(SAMPLE_KEYS).max(1);
        let keys: Vec<M::Key> = pairs
            .into_iter()
            .step_by(keep)
            .map(|(key, _)| key)
            .collect();
        Ok(sample_bounds(keys, self.job.partitions(), order))
    }
}

/// What the map side folds with: the run's combiner if it has one
/// (called through its pointer), else `fold`, whose own type makes the loop
/// that absorbs staged pairs (`folder`), so that it inlines there.
pub(super) fn folds_with<'f, K, V, C>(
    combiner: Option<&'f Combiner<'f, V>>,
    fold: &'f C,
    folder: &'f Folder<'f, C>,
) -> (&'f Combiner<'f, V>, Option<&'f dyn Absorb<K, V>>)
where
    K: std::hash::Hash + Eq,
    C: Fn(&mut V, V) + Sync + 'f,
{
    match combiner {
        Some(combiner) => (combiner, None),
        None => (fold, Some(folder)),
    }
}
