//! The thread that owns the llama.cpp context and serves every call at once.
//!
//! Each call gets its own sequence in one shared KV cache. Every loop turn puts the next token of
//! every running sequence (and a slice of any prompt still being read) into a single batch and
//! decodes it with one call: on a small CPU that is what makes parallel agents faster together
//! than one after another. A paused call is simply left out of the batch; its sequence and
//! sampler stay as they were, so resuming continues the very same generation.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc::UnboundedSender;

use super::sampling::{TokenSampler, build_sampler};
use crate::provider::stop_matcher::{StopMatcher, StopStep};
use crate::provider::{CallControl, ChatRequest, ProviderError, ProviderEvent, Usage};
use crate::session::call::{CallMode, FinishReason};

pub(super) type EventSender = UnboundedSender<Result<ProviderEvent, ProviderError>>;

pub(super) struct Job {
    pub request: ChatRequest,
    pub control: CallControl,
    pub events: EventSender,
}

impl Job {
    fn abandoned(&self) -> bool {
        self.control.cancel.is_cancelled() || self.events.is_closed()
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct WorkerLimits {
    /// KV cells shared by all sequences.
    pub context_tokens: u32,
    pub max_sequences: u32,
    pub batch_tokens: u32,
}

/// How long an idle-but-paused worker waits before looking at its pause flags again.
const PAUSED_POLL: Duration = Duration::from_millis(20);
/// Prompt tokens read per turn while other calls are generating, so their streams stay smooth.
const PROMPT_SLICE_WHILE_GENERATING: usize = 64;
/// Smallest room left for an answer before a prompt counts as too long.
const MIN_ANSWER_TOKENS: u32 = 16;

struct Slot {
    job: Job,
    seq: i32,
    prompt: Vec<LlamaToken>,
    /// Prompt tokens already decoded.
    prompt_done: usize,
    /// Position of the next token in the sequence.
    pos: i32,
    /// Sampled but not yet fed back to the model.
    next_token: Option<LlamaToken>,
    max_tokens: u32,
    /// End-of-generation tokens are refused until this many tokens are out.
    min_tokens: u32,
    generated: u32,
    sampler: TokenSampler,
    utf8: encoding_rs::Decoder,
    stops: StopMatcher,
    /// Text kept for a legacy (non-streaming) call until the end.
    held_reply: String,
    /// Index in the current batch whose logits belong to this slot.
    logits_at: Option<i32>,
    /// Some of this slot's tokens are in the current batch.
    in_batch: bool,
    piece_buf: Vec<u8>,
}

impl Slot {
    fn reserved_tokens(&self) -> u32 {
        self.prompt.len() as u32 + self.max_tokens
    }

    fn emit(&mut self, text: String) {
        if text.is_empty() {
            return;
        }
        match self.job.request.mode {
            CallMode::Streaming => {
                let _ = self.job.events.send(Ok(ProviderEvent::Text(text)));
            }
            CallMode::Legacy => self.held_reply.push_str(&text),
        }
    }

    fn finish(&mut self, finish: FinishReason) {
        let mut tail = String::new();
        let _ = self.utf8.decode_to_string(&[], &mut tail, true);
        let rest = match self.stops.push(&tail) {
            StopStep::Emit(t) | StopStep::Stopped(t) => t,
        };
        self.emit(rest);
        let held = self.stops.finish();
        self.emit(held);
        if !self.held_reply.is_empty() {
            let text = std::mem::take(&mut self.held_reply);
            let _ = self.job.events.send(Ok(ProviderEvent::Text(text)));
        }
        let usage = Usage {
            input_tokens: self.prompt.len() as u64,
            output_tokens: u64::from(self.generated),
            ..Usage::default()
        };
        let _ = self
            .job
            .events
            .send(Ok(ProviderEvent::Finished { usage, finish }));
    }
}

pub(super) struct Worker<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    template: Option<LlamaChatTemplate>,
    limits: WorkerLimits,
    queue: VecDeque<Job>,
    slots: Vec<Option<Slot>>,
    batch: LlamaBatch<'static>,
    /// The vocabulary's end-of-generation tokens, found once, for replies with a minimum length.
    eog_tokens: Vec<LlamaToken>,
    jobs_closed: bool,
    /// Set when the provider is dropped: abandon everything and return.
    stop: Arc<AtomicBool>,
}

enum Turn {
    Decoded,
    NothingRunnable,
}

impl<'m> Worker<'m> {
    pub fn new(
        model: &'m LlamaModel,
        ctx: LlamaContext<'m>,
        limits: WorkerLimits,
        stop: Arc<AtomicBool>,
    ) -> Self {
        Worker {
            model,
            ctx,
            template: model.chat_template(None).ok(),
            limits,
            queue: VecDeque::new(),
            slots: (0..limits.max_sequences).map(|_| None).collect(),
            batch: LlamaBatch::new(limits.batch_tokens as usize, limits.max_sequences as i32),
            eog_tokens: (0..model.n_vocab())
                .map(LlamaToken::new)
                .filter(|&t| model.vocab().is_eog(t))
                .collect(),
            jobs_closed: false,
            stop,
        }
    }

    pub fn run(mut self, jobs: Receiver<Job>) {
        loop {
            if self.stop.load(Ordering::Acquire) {
                self.abandon_all();
                return;
            }
            if !self.busy() {
                if self.jobs_closed {
                    return;
                }
                match jobs.recv() {
                    Ok(job) => self.queue.push_back(job),
                    Err(_) => return,
                }
            }
            self.take_waiting_jobs(&jobs);
            self.drop_abandoned();
            self.admit();
            match self.turn() {
                Turn::Decoded => {}
                Turn::NothingRunnable => match jobs.recv_timeout(PAUSED_POLL) {
                    Ok(job) => self.queue.push_back(job),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => self.jobs_closed = true,
                },
            }
        }
    }

    fn abandon_all(&mut self) {
        for job in self.queue.drain(..) {
            let _ = job.events.send(Err(ProviderError::cancelled()));
        }
        for i in 0..self.slots.len() {
            if let Some(slot) = self.release(i) {
                let _ = slot.job.events.send(Err(ProviderError::cancelled()));
            }
        }
    }

    fn busy(&self) -> bool {
        !self.queue.is_empty() || self.slots.iter().any(Option::is_some)
    }

    fn take_waiting_jobs(&mut self, jobs: &Receiver<Job>) {
        loop {
            match jobs.try_recv() {
                Ok(job) => self.queue.push_back(job),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    self.jobs_closed = true;
                    return;
                }
            }
        }
    }

    fn drop_abandoned(&mut self) {
        self.queue.retain(|job| {
            if job.abandoned() {
                let _ = job.events.send(Err(ProviderError::cancelled()));
                false
            } else {
                true
            }
        });
        for i in 0..self.slots.len() {
            if self.slots[i].as_ref().is_some_and(|s| s.job.abandoned())
                && let Some(slot) = self.release(i)
            {
                let _ = slot.job.events.send(Err(ProviderError::cancelled()));
            }
        }
    }

    /// Frees a slot and its part of the KV cache; the job it held, if any.
    fn release(&mut self, index: usize) -> Option<Slot> {
        let slot = self.slots[index].take()?;
        let _ = self
            .ctx
            .clear_kv_cache_seq(Some(slot.seq as u32), None, None);
        Some(slot)
    }

    fn reserved(&self) -> u32 {
        self.slots.iter().flatten().map(Slot::reserved_tokens).sum()
    }

    /// Starts queued calls while a sequence is free and the KV cache has room for their prompt
    /// and answer; the rest wait their turn.
    fn admit(&mut self) {
        while let Some(free) = self.slots.iter().position(Option::is_none) {
            let Some(job) = self.queue.pop_front() else {
                return;
            };
            let prompt = match self.tokenize_prompt(&job.request) {
                Ok(p) => p,
                Err(e) => {
                    let _ = job.events.send(Err(e));
                    continue;
                }
            };
            let capacity = self.limits.context_tokens;
            if prompt.len() as u32 + MIN_ANSWER_TOKENS > capacity {
                let _ = job.events.send(Err(ProviderError::invalid_request(format!(
                    "the prompt has {} tokens; the local model's context holds {capacity}",
                    prompt.len()
                ))));
                continue;
            }
            let max_tokens = job
                .request
                .max_tokens
                .max(1)
                .min(capacity - prompt.len() as u32);
            if self.reserved() + prompt.len() as u32 + max_tokens > capacity {
                self.queue.push_front(job);
                return;
            }
            let sampler = match build_sampler(self.model, &job.request) {
                Ok(s) => s,
                Err(e) => {
                    let _ = job.events.send(Err(e));
                    continue;
                }
            };
            let stops = StopMatcher::new(&job.request.stop);
            self.slots[free] = Some(Slot {
                seq: free as i32,
                prompt,
                prompt_done: 0,
                pos: 0,
                next_token: None,
                // A grammar decides where the reply may end; a minimum could contradict it.
                min_tokens: if job.request.grammar.is_some() {
                    0
                } else {
                    job.request.min_tokens.min(max_tokens)
                },
                max_tokens,
                generated: 0,
                sampler,
                utf8: encoding_rs::UTF_8.new_decoder(),
                stops,
                held_reply: String::new(),
                logits_at: None,
                in_batch: false,
                piece_buf: Vec::with_capacity(16),
                job,
            });
        }
    }

    fn tokenize_prompt(&self, request: &ChatRequest) -> Result<Vec<LlamaToken>, ProviderError> {
        let template = self.template.as_ref().ok_or_else(|| {
            ProviderError::unavailable("the local model file has no chat template")
        })?;
        let messages = request
            .messages
            .iter()
            .map(|m| LlamaChatMessage::new(m.role.as_str().into(), m.content.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                ProviderError::invalid_request(format!("message contains a NUL byte: {e}"))
            })?;
        let text = self
            .model
            .apply_chat_template(template, &messages, true)
            .map_err(|e| ProviderError::invalid_request(format!("chat template failed: {e}")))?;
        let add_bos = self.model.vocab().should_add_bos();
        Ok(self.model.vocab().tokenize(text.as_bytes(), add_bos, true))
    }

    /// One decode of everything runnable.
    fn turn(&mut self) -> Turn {
        self.batch.clear();
        let generating = self
            .slots
            .iter()
            .flatten()
            .filter(|s| s.next_token.is_some() && !s.job.control.pause.is_paused())
            .count();
        let mut room = self.limits.batch_tokens as usize - generating;
        let prompt_slice = if generating > 0 {
            PROMPT_SLICE_WHILE_GENERATING
        } else {
            room
        };
        for slot in self.slots.iter_mut().flatten() {
            slot.logits_at = None;
            slot.in_batch = false;
            if slot.job.control.pause.is_paused() {
                continue;
            }
            if let Some(token) = slot.next_token {
                let at = self.batch.n_tokens();
                if self.batch.add(token, slot.pos, &[slot.seq], true).is_ok() {
                    slot.logits_at = Some(at);
                    slot.in_batch = true;
                    slot.pos += 1;
                }
            } else if slot.prompt_done < slot.prompt.len() && room > 0 {
                let take = (slot.prompt.len() - slot.prompt_done)
                    .min(prompt_slice)
                    .min(room);
                let end = slot.prompt_done + take;
                for i in slot.prompt_done..end {
                    let last = i + 1 == slot.prompt.len();
                    let at = self.batch.n_tokens();
                    if self
                        .batch
                        .add(slot.prompt[i], slot.pos, &[slot.seq], last)
                        .is_err()
                    {
                        break;
                    }
                    if last {
                        slot.logits_at = Some(at);
                    }
                    slot.pos += 1;
                    slot.prompt_done += 1;
                    slot.in_batch = true;
                }
                room -= take;
            }
        }
        if self.batch.n_tokens() == 0 {
            return Turn::NothingRunnable;
        }
        if let Err(e) = self.ctx.decode(&mut self.batch) {
            self.fail_batch(&format!("llama.cpp decode failed: {e}"));
            return Turn::Decoded;
        }
        for i in 0..self.slots.len() {
            self.sample_slot(i);
        }
        Turn::Decoded
    }

    fn fail_batch(&mut self, message: &str) {
        for i in 0..self.slots.len() {
            if self.slots[i].as_ref().is_some_and(|s| s.in_batch)
                && let Some(slot) = self.release(i)
            {
                let _ = slot
                    .job
                    .events
                    .send(Err(ProviderError::failed(message.to_string())));
            }
        }
    }

    fn sample_slot(&mut self, index: usize) {
        let Some(slot) = self.slots[index].as_mut() else {
            return;
        };
        let Some(at) = slot.logits_at.take() else {
            return;
        };
        let banned: &[LlamaToken] = if slot.generated < slot.min_tokens {
            &self.eog_tokens
        } else {
            &[]
        };
        let finished = match slot.sampler.sample_banning(&self.ctx, at, banned) {
            Some(token) => slot.accept(self.model, token),
            // The grammar allows nothing more: the reply is complete.
            None => Some(FinishReason::Stop),
        };
        if let Some(finish) = finished {
            slot.finish(finish);
            self.release(index);
        }
    }
}

impl Slot {
    /// Turns a sampled token into text; returns how the reply ends if it does.
    fn accept(&mut self, model: &LlamaModel, token: LlamaToken) -> Option<FinishReason> {
        let vocab = model.vocab();
        if vocab.is_eog(token) {
            return Some(FinishReason::Stop);
        }
        self.generated += 1;
        self.piece_buf.clear();
        vocab.token_to_piece_into(token, &mut self.piece_buf, false, None);
        let mut piece = String::with_capacity(
            self.utf8
                .max_utf8_buffer_length(self.piece_buf.len())
                .unwrap_or(16),
        );
        let _ = self
            .utf8
            .decode_to_string(&self.piece_buf, &mut piece, false);
        match self.stops.push(&piece) {
            StopStep::Emit(text) => self.emit(text),
            StopStep::Stopped(text) => {
                self.emit(text);
                return Some(FinishReason::Stop);
            }
        }
        if self.generated >= self.max_tokens {
            return Some(FinishReason::Length);
        }
        self.next_token = Some(token);
        None
    }
}
