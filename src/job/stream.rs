//! Streaming open inputs: a reader thread cuts each into chunks of whole
//! records, and the pool maps them as they come (see
//! [`MapReduce::streamed`](crate::MapReduce::streamed)).

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::{Job, Task, MAX_AUTO_SPLIT, MIN_AUTO_SPLIT};
use crate::error::Error;
use crate::input::read;
use crate::map::{MapChunk, Mapper, Slot};
use crate::spill::Spiller;

impl Job {
    /// The size of the chunks open inputs are read in: the split size if
    /// one was set, else an eighth of each thread's share of the memory
    /// budget, within the bounds of the automatic split size. At most two
    /// chunks per thread are held at once (one being mapped, one waiting).
    fn chunk_size(&self) -> usize {
        self.split_size.unwrap_or_else(|| {
            (self.spill.budget / self.threads.max(1) / 8).clamp(MIN_AUTO_SPLIT, MAX_AUTO_SPLIT)
        })
    }

    /// Reads open input `file` in chunks on a thread of its own and maps
    /// the chunks on the pool as they come.
    pub(super) fn stream<'d, M: Mapper<'d>>(
        &self,
        file: usize,
        streamed: &Streamed<'_, '_, 'd, M>,
    ) -> Result<(), Error> {
        let input = &streamed.task.inputs.files()[file];
        // The reader goes on after the head read ahead, already mapped;
        // the length expected counts the head.
        let (reader, offset, expected) = input.take_reader()?;
        let from = (reader, offset);
        let mut chunks = read::Chunks::new(from, &self.records, self.chunk_size(), expected);
        let path = input.path().to_path_buf();
        let (send, receive) = std::sync::mpsc::sync_channel(self.threads);
        // Not a scoped thread: a run that fails must not wait for a read
        // that may block for as long as the writer of a pipe likes. It ends
        // at its next chunk, when sending finds no receiver.
        std::thread::Builder::new()
            .name("mr-local-read".to_string())
            .spawn(move || loop {
                let next = chunks.next_chunk().map_err(|e| Error::read(&path, e));
                let last = !matches!(next, Ok(Some(_)));
                let Some(item) = next.transpose() else { break };
                if send.send(item).is_err() || last {
                    break;
                }
            })
            .map_err(|e| Error::io(input.path(), e))?;
        receive.into_iter().par_bridge().try_for_each(|item| {
            let (offset, chunk) = item?;
            let offset = usize::try_from(offset).unwrap_or(usize::MAX);
            streamed
                .task
                .run_chunk(file, offset, &chunk, streamed.map, streamed.slots)?;
            if let Some(spiller) = streamed.spiller {
                spiller.check()?;
            }
            streamed.chunks.fetch_add(1, Ordering::Relaxed);
            streamed
                .bytes
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            (streamed.progress)(chunk.len() as u64);
            Ok(())
        })
    }
}

/// What mapping the chunks of open inputs needs.
pub(super) struct Streamed<'s, 't, 'd, M: Mapper<'d>> {
    pub task: &'s Task<'t, 'd, M>,
    pub map: MapChunk<M, M::Key, M::Value>,
    pub slots: &'s [Slot<M::Key, M::Value>],
    pub spiller: Option<&'s Spiller<'s, M::Key, M::Value>>,
    pub progress: &'s (dyn Fn(u64) + Sync),
    pub chunks: &'s AtomicU64,
    pub bytes: &'s AtomicU64,
}
