//! Choosing the next token: the sampler chain, an optional grammar, banned tokens.
//!
//! A grammar is checked lazily. Running it over the whole 49k-token vocabulary before every
//! token halves the generation rate of this small model, yet almost every token the chain picks
//! is one the grammar allows (inside an answer's free text, all of them). So the chain picks
//! first, the grammar judges that one token, and only when it refuses is the choice made again
//! with the grammar over the full vocabulary: the result is the same token the grammar-first
//! order would give for greedy decoding, at close to the speed of no grammar at all.

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;

use crate::provider::{ChatRequest, ProviderError};

pub struct TokenSampler {
    /// top-k -> repetition penalty -> greedy, or top-k/top-p/temperature sampling.
    chain: LlamaSampler,
    grammar: Option<LlamaSampler>,
}

/// The sampler a request asks for. An invalid grammar is the caller's error.
pub fn build_sampler(
    model: &LlamaModel,
    request: &ChatRequest,
) -> Result<TokenSampler, ProviderError> {
    let grammar = match &request.grammar {
        Some(grammar) => Some(
            LlamaSampler::grammar(model, grammar, "root")
                .map_err(|e| ProviderError::invalid_request(format!("invalid grammar: {e}")))?,
        ),
        None => None,
    };
    let mut chain = Vec::new();
    // top-k first: it shrinks the 49k-token vocabulary before the costlier steps; the token
    // finally chosen is practically always among the 40 likeliest anyway.
    chain.push(LlamaSampler::top_k(40));
    // Small models fall into loops easily; a light penalty on the last 64 tokens keeps them out.
    chain.push(LlamaSampler::penalties(model.n_vocab(), 64, 1.1, 0.0, 0.0));
    if request.temperature <= 0.0 {
        chain.push(LlamaSampler::greedy());
    } else {
        chain.push(LlamaSampler::top_p(0.95, 1));
        chain.push(LlamaSampler::temp(request.temperature));
        chain.push(LlamaSampler::dist(request.seed));
    }
    Ok(TokenSampler {
        chain: LlamaSampler::chain_simple(chain),
        grammar,
    })
}

impl TokenSampler {
    /// The next token from the logits at batch index `at`; None when the grammar allows none.
    pub fn sample(&mut self, ctx: &LlamaContext, at: i32) -> Option<LlamaToken> {
        self.sample_banning(ctx, at, &[])
    }

    /// The next token, never one of `banned`, and one the grammar allows if there is a
    /// grammar. None when no token is left (a grammar that can only end, with the end banned).
    pub fn sample_banning(
        &mut self,
        ctx: &LlamaContext,
        at: i32,
        banned: &[LlamaToken],
    ) -> Option<LlamaToken> {
        if self.grammar.is_none() && banned.is_empty() {
            // llama.cpp's own path: it samples and accepts in one call.
            return Some(self.chain.sample(ctx, at));
        }
        let mut candidates = candidates_without(ctx, at, banned);
        candidates.apply_sampler(&mut self.chain);
        let mut token = candidates
            .selected_token()
            .filter(|&token| self.grammar_allows(token));
        if token.is_none() && self.grammar.is_some() {
            token = self.resample_under_grammar(ctx, at, banned);
        }
        let token = token?;
        self.chain.accept(token);
        if let Some(grammar) = &mut self.grammar {
            grammar.accept(token);
        }
        Some(token)
    }

    fn grammar_allows(&mut self, token: LlamaToken) -> bool {
        let Some(grammar) = &mut self.grammar else {
            return true;
        };
        let mut single =
            LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 1.0, 0.0)], false);
        single.apply_sampler(grammar);
        single.data[0].logit().is_finite()
    }

    /// The choice made again with the grammar over every candidate first.
    fn resample_under_grammar(
        &mut self,
        ctx: &LlamaContext,
        at: i32,
        banned: &[LlamaToken],
    ) -> Option<LlamaToken> {
        let mut candidates = candidates_without(ctx, at, banned);
        if let Some(grammar) = &mut self.grammar {
            candidates.apply_sampler(grammar);
        }
        candidates.apply_sampler(&mut self.chain);
        candidates.selected_token()
    }
}

/// Every token's logit at batch index `at`, with `banned` tokens made impossible.
fn candidates_without(ctx: &LlamaContext, at: i32, banned: &[LlamaToken]) -> LlamaTokenDataArray {
    let mut candidates = ctx.token_data_array_ith(at);
    for token in banned {
        // Unsorted candidates are indexed by token id.
        if let Some(c) = usize::try_from(token.0)
            .ok()
            .and_then(|i| candidates.data.get_mut(i))
        {
            c.set_logit(f32::NEG_INFINITY);
        }
    }
    candidates
}
