//! Exit-interview outcomes: "would you become a buddy?"

use crate::string_enum;

string_enum! {
    /// Only `yes` carries personal data; it creates a buddy in state `candidate`.
    Answer { Yes => "yes", No => "no", Later => "later" }
}
