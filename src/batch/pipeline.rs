//! Moving rows through a batch. A feeder reads records into jobs of `JOB_ROWS` consecutive rows
//! (and notes repeated ids, which needs the rows in order); screeners decide and render whole
//! jobs; the calling thread writes the rendered jobs strictly in input order. With one thread
//! this is a plain loop. With more, the feeder and each screener get a thread of their own and
//! jobs go to the screeners in turn, so the writer collects them in turn: ordered output with
//! no reordering buffer. The channels are bounded, so a handful of jobs are ever in flight and
//! memory stays flat; a failed write or read drops the channels and every thread ends.

use std::io::{Read, Write};
use std::sync::mpsc;

use super::{BatchError, Columns, Duplicates, Job, Screener, Summary};
use crate::output::Format;
use crate::ruleset::Ruleset;

/// Rows per job: enough to make a job's hand-over cheap, few enough that the jobs in flight
/// stay small (a job of NDJSON output is about half a megabyte).
const JOB_ROWS: usize = 256;

/// What a batch run needs to know, resolved up front.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    pub ruleset: &'a Ruleset,
    pub columns: &'a Columns,
    pub format: Format,
    /// ANSI colour in the table.
    pub color: bool,
    /// Screening threads; 1 screens on the calling thread.
    pub threads: usize,
}

/// Reads rows into jobs.
struct Feeder<'a, R> {
    reader: &'a mut csv::Reader<R>,
    duplicates: &'a mut Duplicates,
    id_column: Option<usize>,
    next_row: u64,
}

impl<R: Read> Feeder<'_, R> {
    /// Fills `job` with up to `JOB_ROWS` rows; false when no rows were left.
    fn fill(&mut self, job: &mut Job) -> Result<bool, BatchError> {
        job.first_row = self.next_row;
        job.len = 0;
        while job.len < JOB_ROWS {
            if job.records.len() == job.len {
                job.records.push(Some(csv::ByteRecord::new()));
                job.duplicates.push(None);
            }
            let record = job.records[job.len].get_or_insert_with(csv::ByteRecord::new);
            match self.reader.read_byte_record(record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(source) => {
                    return Err(BatchError::Read {
                        row: self.next_row,
                        source,
                    })
                }
            }
            let id = self.id_column.and_then(|c| record.get(c)).unwrap_or(b"");
            job.duplicates[job.len] = self.duplicates.check(self.next_row, id);
            job.len += 1;
            self.next_row += 1;
        }
        Ok(job.len > 0)
    }

    fn position(&self) -> u64 {
        self.reader.position().byte()
    }
}

/// Screens every record left in `reader` (its header already resolved to `plan.columns`) and
/// writes one rendered record per row to `out`, between the format's head and tail.
/// `progress` hears the input byte position after each job.
pub fn screen<R: Read + Send, W: Write>(
    plan: Plan<'_>,
    reader: &mut csv::Reader<R>,
    duplicates: &mut Duplicates,
    out: &mut W,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, BatchError> {
    let mut feeder = Feeder {
        reader,
        duplicates,
        id_column: plan.columns.id,
        next_row: 1,
    };
    let mut screener = Screener::new(plan.ruleset, plan.columns, plan.format, plan.color);
    let mut edge = Vec::new();
    screener.renderer.head(&mut edge);
    out.write_all(&edge).map_err(BatchError::Write)?;
    let summary = if plan.threads <= 1 {
        let mut summary = Summary::default();
        let mut job = Job::default();
        while feeder.fill(&mut job)? {
            screener.screen_job(&mut job);
            out.write_all(&job.out).map_err(BatchError::Write)?;
            summary.add(&job.summary);
            progress(feeder.position());
        }
        summary
    } else {
        in_parallel(plan, feeder, out, progress)?
    };
    edge.clear();
    screener.renderer.tail(&mut edge, summary.rows);
    out.write_all(&edge).map_err(BatchError::Write)?;
    Ok(summary)
}

type Message = Result<Job, BatchError>;

fn in_parallel<R: Read + Send, W: Write>(
    plan: Plan<'_>,
    mut feeder: Feeder<'_, R>,
    out: &mut W,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, BatchError> {
    let threads = plan.threads;
    std::thread::scope(|scope| {
        let (free_tx, free_rx) = mpsc::channel::<Job>();
        let mut to_screeners = Vec::with_capacity(threads);
        let mut from_screeners = Vec::with_capacity(threads);
        for _ in 0..threads {
            let (job_tx, job_rx) = mpsc::sync_channel::<Message>(1);
            let (done_tx, done_rx) = mpsc::sync_channel::<Message>(1);
            scope.spawn(move || {
                let mut screener =
                    Screener::new(plan.ruleset, plan.columns, plan.format, plan.color);
                for message in job_rx {
                    let message = message.map(|mut job| {
                        screener.screen_job(&mut job);
                        job
                    });
                    if done_tx.send(message).is_err() {
                        break; // the writer has stopped
                    }
                }
            });
            to_screeners.push(job_tx);
            from_screeners.push(done_rx);
        }
        scope.spawn(move || {
            for turn in 0.. {
                let mut job = free_rx.try_recv().unwrap_or_default();
                let message = match feeder.fill(&mut job) {
                    Ok(true) => Ok(job),
                    Ok(false) => break,
                    Err(e) => Err(e),
                };
                let failed = message.is_err();
                if to_screeners[turn % threads].send(message).is_err() || failed {
                    break;
                }
                progress(feeder.position());
            }
            // Dropping the senders tells every screener that no more jobs are coming.
        });
        let mut summary = Summary::default();
        for turn in 0.. {
            match from_screeners[turn % threads].recv() {
                // That screener is gone without job `turn`: the feeder has finished.
                Err(_) => break,
                Ok(Err(e)) => return Err(e),
                Ok(Ok(job)) => {
                    out.write_all(&job.out).map_err(BatchError::Write)?;
                    summary.add(&job.summary);
                    let _ = free_tx.send(job);
                }
            }
        }
        Ok(summary)
    })
}
