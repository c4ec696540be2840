//! Finds stop strings in streamed text without ever showing a part of one.
//!
//! Text that could be the beginning of a stop string is held back until the next piece shows
//! whether it was.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopStep {
    /// Safe to show (may be empty while text is held back).
    Emit(String),
    /// A stop string was found: show this last text and end the reply.
    Stopped(String),
}

#[derive(Debug, Default)]
pub struct StopMatcher {
    stops: Vec<String>,
    held: String,
}

impl StopMatcher {
    pub fn new(stops: &[String]) -> Self {
        StopMatcher {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            held: String::new(),
        }
    }

    pub fn push(&mut self, piece: &str) -> StopStep {
        if self.stops.is_empty() {
            return StopStep::Emit(piece.to_string());
        }
        self.held.push_str(piece);
        if let Some(at) = self
            .stops
            .iter()
            .filter_map(|s| self.held.find(s.as_str()))
            .min()
        {
            let before = self.held[..at].to_string();
            self.held.clear();
            return StopStep::Stopped(before);
        }
        let keep = self.longest_partial_stop_suffix();
        let emit_len = self.held.len() - keep;
        let emitted: String = self.held.drain(..emit_len).collect();
        StopStep::Emit(emitted)
    }

    /// At the end of the reply, the held text was not a stop string after all.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }

    fn longest_partial_stop_suffix(&self) -> usize {
        self.stops
            .iter()
            .flat_map(|stop| {
                (1..stop.len())
                    .filter(|&k| stop.is_char_boundary(k))
                    .filter(|&k| self.held.ends_with(&stop[..k]))
            })
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], pieces: &[&str]) -> (String, bool) {
        let stops: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
        let mut m = StopMatcher::new(&stops);
        let mut out = String::new();
        for p in pieces {
            match m.push(p) {
                StopStep::Emit(t) => out.push_str(&t),
                StopStep::Stopped(t) => {
                    out.push_str(&t);
                    return (out, true);
                }
            }
        }
        out.push_str(&m.finish());
        (out, false)
    }

    #[test]
    fn no_stops_pass_everything_through() {
        assert_eq!(run(&[], &["a", "b"]), ("ab".into(), false));
    }

    #[test]
    fn a_stop_split_across_pieces_is_never_shown() {
        assert_eq!(
            run(&["###"], &["Hello ", "#", "#", "# world"]),
            ("Hello ".into(), true)
        );
    }

    #[test]
    fn a_false_start_is_released() {
        assert_eq!(
            run(&["END"], &["the E", "nd is ", "near"]),
            ("the End is near".into(), false)
        );
        assert_eq!(run(&["END"], &["tail E"]), ("tail E".into(), false));
    }

    #[test]
    fn the_earliest_of_several_stops_wins() {
        assert_eq!(run(&["b", "cd"], &["xxcdb"]), ("xx".into(), true));
    }

    #[test]
    fn multibyte_text_is_split_on_char_boundaries() {
        assert_eq!(run(&["éé"], &["café", " ok"]), ("café ok".into(), false));
        assert_eq!(run(&["éé"], &["caf", "é", "é!"]), ("caf".into(), true));
    }
}
