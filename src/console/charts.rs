//! Charts as SVG, drawn on the server: small pure functions from numbers to an `<svg>` string,
//! embedded in the page as it is (no script, no `style` attribute: the console's CSP forbids
//! both; presentation attributes such as `fill` are fine).
//!
//! Every chart is an image with a name and a description that holds its numbers
//! (`role="img"`, `<title>`, `<desc>`, tied by `aria-labelledby`), every bar carries its value
//! as text, and the series of a grouped chart differ by pattern as well as colour, with a
//! legend: nothing is told by colour alone. The colours have at least 3:1 contrast with the
//! white background (WCAG 1.4.11), the text 4.5:1. The page shows the same numbers in a table
//! next to each chart.

/// The series colours, each with at least 3:1 contrast against white.
const COLOURS: [&str; 4] = ["#154273", "#a34700", "#1e6b24", "#6a1b9a"];
/// Text colour.
const INK: &str = "#1b1b1b";
/// Axis and grid colour.
const LINE: &str = "#6b7480";

/// Text made safe for SVG (element content and attribute values).
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A number for an SVG attribute: one decimal at most.
fn n(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

/// `value` scaled into `0..=length`, against `max` (nothing for no value or no maximum).
fn scale(value: Option<f64>, max: f64, length: f64) -> f64 {
    match value {
        Some(v) if max > 0.0 && v.is_finite() && v > 0.0 => (v / max * length).min(length),
        _ => 0.0,
    }
}

/// The opening of a chart: the `<svg>` element with its accessible name and description.
fn open(id: &str, width: f64, height: f64, title: &str, desc: &str) -> String {
    let id = esc(id);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" \
         viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" \
         aria-labelledby=\"{id}-title {id}-desc\" font-family=\"sans-serif\" font-size=\"13\">\
         <title id=\"{id}-title\">{title}</title><desc id=\"{id}-desc\">{desc}</desc>",
        w = n(width),
        h = n(height),
        title = esc(title),
        desc = esc(desc),
    )
}

/// One bar of a horizontal bar chart.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    /// The value as written next to the bar (e.g. `12` or `40%`).
    pub text: String,
}

/// A horizontal bar chart: one bar per item, its label left of it and its value after it, all
/// against the largest value. For few categories (proposal outcomes, a funnel).
pub fn bars(id: &str, title: &str, desc: &str, items: &[Bar]) -> String {
    const LABEL: f64 = 190.0;
    const PLOT: f64 = 340.0;
    const ROW: f64 = 34.0;
    const BAR: f64 = 22.0;
    let width = LABEL + PLOT + 90.0;
    let height = ROW * items.len().max(1) as f64 + 12.0;
    let max = items.iter().filter_map(|b| b.value).fold(0.0_f64, f64::max);
    let mut svg = open(id, width, height, title, desc);
    svg.push_str(&format!(
        "<line x1=\"{x}\" y1=\"4\" x2=\"{x}\" y2=\"{y}\" stroke=\"{LINE}\"/>",
        x = n(LABEL),
        y = n(height - 4.0)
    ));
    for (i, item) in items.iter().enumerate() {
        let top = 8.0 + ROW * i as f64;
        let length = scale(item.value, max, PLOT);
        let middle = top + BAR / 2.0 + 4.5;
        svg.push_str(&format!(
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" fill=\"{INK}\">{label}</text>\
             <rect class=\"bar\" x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"{fill}\"/>\
             <text x=\"{vx}\" y=\"{ty}\" fill=\"{INK}\">{text}</text>",
            lx = n(LABEL - 8.0),
            ty = n(middle),
            label = esc(&item.label),
            x = n(LABEL),
            y = n(top),
            w = n(length),
            h = n(BAR),
            fill = COLOURS[0],
            vx = n(LABEL + length + 6.0),
            text = esc(&item.text),
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// One group of a column chart (a month) with a value per series.
#[derive(Debug, Clone)]
pub struct Group {
    pub label: String,
    pub values: Vec<Option<f64>>,
    /// Each value as written above its column.
    pub texts: Vec<String>,
}

/// The fill of series `i`: a colour and, from the second series on, a pattern of white lines or
/// dots over it, so the series differ without colour too.
fn pattern(id: &str, i: usize) -> String {
    let colour = COLOURS[i % COLOURS.len()];
    let marks = match i % 4 {
        0 => String::new(),
        1 => "<path d=\"M0,6 L6,0\" stroke=\"#ffffff\" stroke-width=\"1.5\"/>".to_owned(),
        2 => "<circle cx=\"3\" cy=\"3\" r=\"1.2\" fill=\"#ffffff\"/>".to_owned(),
        _ => "<path d=\"M0,3 H6 M3,0 V6\" stroke=\"#ffffff\" stroke-width=\"1.2\"/>".to_owned(),
    };
    format!(
        "<pattern id=\"{id}-s{i}\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\">\
         <rect width=\"6\" height=\"6\" fill=\"{colour}\"/>{marks}</pattern>",
        id = esc(id)
    )
}

/// A column chart: for each group (a month) one column per series side by side, each with
/// its value above it, a legend of the series on top. With one series, a plain column chart.
pub fn columns(id: &str, title: &str, desc: &str, series: &[String], groups: &[Group]) -> String {
    const LEFT: f64 = 12.0;
    const PLOT: f64 = 200.0;
    const COLUMN: f64 = 16.0;
    const GAP: f64 = 18.0;
    let count = series.len().max(1);
    let legend_rows = if series.len() > 1 { series.len() } else { 0 };
    let legend = 20.0 * legend_rows as f64;
    let top = legend + 24.0;
    let group_width = COLUMN * count as f64 + GAP;
    let width = (LEFT * 2.0 + group_width * groups.len().max(1) as f64).max(320.0);
    let height = top + PLOT + 28.0;
    let max = groups
        .iter()
        .flat_map(|g| g.values.iter().flatten())
        .fold(0.0_f64, |a, b| a.max(*b));
    let mut svg = open(id, width, height, title, desc);
    let id = esc(id);
    svg.push_str("<defs>");
    for i in 0..count {
        svg.push_str(&pattern(&id, i));
    }
    svg.push_str("</defs>");
    if series.len() > 1 {
        for (i, name) in series.iter().enumerate() {
            let y = 4.0 + 20.0 * i as f64;
            svg.push_str(&format!(
                "<rect x=\"{LEFT}\" y=\"{y}\" width=\"14\" height=\"14\" fill=\"url(#{id}-s{i})\" stroke=\"{INK}\" stroke-width=\"0.5\"/>\
                 <text x=\"{tx}\" y=\"{ty}\" fill=\"{INK}\">{name}</text>",
                y = n(y),
                tx = n(LEFT + 20.0),
                ty = n(y + 12.0),
                name = esc(name),
            ));
        }
    }
    let base = top + PLOT;
    svg.push_str(&format!(
        "<line x1=\"{LEFT}\" y1=\"{b}\" x2=\"{x2}\" y2=\"{b}\" stroke=\"{LINE}\"/>",
        b = n(base),
        x2 = n(width - LEFT)
    ));
    for (g, group) in groups.iter().enumerate() {
        let left = LEFT + GAP / 2.0 + group_width * g as f64;
        for i in 0..count {
            let value = group.values.get(i).copied().flatten();
            let length = scale(value, max, PLOT - 16.0);
            let x = left + COLUMN * i as f64;
            let text = group.texts.get(i).map(String::as_str).unwrap_or("");
            svg.push_str(&format!(
                "<rect class=\"bar\" x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"url(#{id}-s{i})\"/>\
                 <text x=\"{tx}\" y=\"{ty}\" text-anchor=\"middle\" font-size=\"10\" fill=\"{INK}\">{text}</text>",
                x = n(x),
                y = n(base - length),
                w = n(COLUMN - 2.0),
                h = n(length),
                tx = n(x + (COLUMN - 2.0) / 2.0),
                ty = n(base - length - 3.0),
                text = esc(text),
            ));
        }
        svg.push_str(&format!(
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"middle\" fill=\"{INK}\">{label}</text>",
            x = n(left + COLUMN * count as f64 / 2.0),
            y = n(base + 18.0),
            label = esc(&group.label),
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `(attribute, value)` of every bar in `svg`.
    fn bar_attr(svg: &str, attribute: &str) -> Vec<f64> {
        svg.split("<rect class=\"bar\"")
            .skip(1)
            .map(|rest| {
                let marker = format!(" {attribute}=\"");
                let at = rest.find(&marker).unwrap() + marker.len();
                rest[at..].split('"').next().unwrap().parse().unwrap()
            })
            .collect()
    }

    fn bar(label: &str, value: Option<f64>) -> Bar {
        Bar {
            label: label.to_owned(),
            value,
            text: value.map(|v| v.to_string()).unwrap_or_else(|| "–".into()),
        }
    }

    #[test]
    fn bar_lengths_are_proportional_to_the_values() {
        let svg = bars(
            "c",
            "Outcomes",
            "accepted 8, declined 4, expired 2",
            &[
                bar("accepted", Some(8.0)),
                bar("declined", Some(4.0)),
                bar("expired", Some(2.0)),
            ],
        );
        let widths = bar_attr(&svg, "width");
        assert_eq!(widths, [340.0, 170.0, 85.0]);
        assert!(svg.contains(">8</text>") && svg.contains(">2</text>"));
    }

    #[test]
    fn column_heights_are_proportional_and_share_one_scale() {
        let svg = columns(
            "m",
            "Requests",
            "numbers",
            &["a".into(), "b".into()],
            &[
                Group {
                    label: "2026-10".into(),
                    values: vec![Some(4.0), Some(2.0)],
                    texts: vec!["4".into(), "2".into()],
                },
                Group {
                    label: "2026-11".into(),
                    values: vec![Some(1.0), Some(0.0)],
                    texts: vec!["1".into(), "0".into()],
                },
            ],
        );
        let heights = bar_attr(&svg, "height");
        assert_eq!(heights, [184.0, 92.0, 46.0, 0.0]);
        // Bottoms on one baseline.
        let ys = bar_attr(&svg, "y");
        for (y, h) in ys.iter().zip(&heights) {
            assert_eq!(y + h, ys[0] + heights[0]);
        }
        // Two series: two patterns and a legend.
        assert!(svg.contains("id=\"m-s0\"") && svg.contains("id=\"m-s1\""));
        assert!(svg.contains(">a</text>") && svg.contains(">b</text>"));
    }

    #[test]
    fn no_data_draws_empty_bars_without_dividing_by_zero() {
        let svg = bars(
            "z",
            "Funnel",
            "all zero",
            &[bar("asked", Some(0.0)), bar("yes", None)],
        );
        assert_eq!(bar_attr(&svg, "width"), [0.0, 0.0]);
        assert!(svg.contains(">–</text>"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        let svg = columns("e", "Empty", "no months", &["x".into()], &[]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("NaN"));
        let svg = columns(
            "e",
            "Zero",
            "zero",
            &["x".into()],
            &[Group {
                label: "2026-11".into(),
                values: vec![Some(0.0)],
                texts: vec!["0".into()],
            }],
        );
        assert_eq!(bar_attr(&svg, "height"), [0.0]);
    }

    #[test]
    fn labels_titles_and_descriptions_are_escaped() {
        let svg = bars(
            "x\"><script>",
            "A <b>title</b> & more",
            "desc with \"quotes\" and 'apostrophes'",
            &[bar("<img src=x onerror=alert(1)>", Some(1.0))],
        );
        assert!(!svg.contains("<script>") && !svg.contains("<img") && !svg.contains("<b>"));
        assert!(svg.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(svg.contains("<title id=\"x&quot;&gt;&lt;script&gt;-title\">A &lt;b&gt;title&lt;/b&gt; &amp; more</title>"));
        assert!(svg.contains("&quot;quotes&quot; and &#39;apostrophes&#39;"));
    }

    #[test]
    fn charts_are_images_named_and_described_without_inline_style_or_script() {
        for svg in [
            bars("a", "T", "D 1", &[bar("x", Some(1.0))]),
            columns(
                "b",
                "T",
                "D 2",
                &["s".into()],
                &[Group {
                    label: "m".into(),
                    values: vec![Some(2.0)],
                    texts: vec!["2".into()],
                }],
            ),
        ] {
            assert!(svg.contains("role=\"img\""));
            assert!(svg.contains("aria-labelledby=\""));
            assert!(svg.contains("<title id=") && svg.contains("<desc id="));
            assert!(!svg.contains("style") && !svg.contains("<script"));
        }
    }
}
