//! A routing in words: the choice, the runner-up and the other candidates with their
//! scores and matched words, and whether the call is close.

use std::fmt::Write as _;

use crate::{CLOSE_MARGIN, Candidate, Routing};

/// The routing as a few lines of text for a person: the choice, the runner-up
/// (with its share of the choice's score), the other candidates, each with the
/// words that matched, and whether the call is clear or close.
pub fn explain(routing: &Routing) -> String {
    let mut text = String::new();
    let no_evidence = routing.choice.score == 0.0;
    line(&mut text, "choice:   ", &routing.choice, None);
    if no_evidence {
        text.push_str(
            "  no word of the request matches any agent: the top of the pyramid takes it\n",
        );
    }
    if let Some(runner_up) = &routing.runner_up {
        let share = (!no_evidence).then(|| runner_up.score / routing.choice.score);
        line(&mut text, "runner-up:", runner_up, share);
    }
    for other in routing.candidates.iter().skip(2) {
        let share = (!no_evidence).then(|| other.score / routing.choice.score);
        line(&mut text, "also:     ", other, share);
    }
    let margin = CLOSE_MARGIN * 100.0;
    let verdict = if routing.close && no_evidence {
        "close: nothing tells the agents apart; a model pick among the candidates could help"
            .to_owned()
    } else if routing.close {
        format!(
            "close: the runner-up is within {margin:.0}% of the choice; a model pick among the candidates could help"
        )
    } else if routing.runner_up.is_some() {
        format!("clear: the runner-up is not within {margin:.0}% of the choice")
    } else {
        "clear: no other agent matches".to_owned()
    };
    text.push_str(&verdict);
    text.push('\n');
    text
}

fn line(text: &mut String, label: &str, candidate: &Candidate, share_of_choice: Option<f64>) {
    let _ = write!(
        text,
        "{label} {} (level {}), score {:.2}",
        candidate.agent, candidate.level, candidate.score
    );
    if let Some(share) = share_of_choice {
        // Rounded down, so that a runner-up shown at 90% is within the margin.
        let _ = write!(text, " ({:.0}% of the choice)", (share * 100.0).floor());
    }
    if candidate.matched.is_empty() {
        text.push('\n');
    } else {
        let _ = writeln!(text, "; matched: {}", candidate.matched.join(", "));
    }
}
