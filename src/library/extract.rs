//! Text out of uploaded files, for search and snippets. Runs in a background job: a
//! large or malformed PDF can take seconds, and an upload should not wait for it.

use super::model::Kind;

/// Enough for any report a curator uploads; the rest of a larger text is not searched.
pub const MAX_TEXT_CHARS: usize = 2_000_000;

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The message names the format's complaint, never the document's words.
    #[error("the {0} file could not be read: {1}")]
    Unreadable(&'static str, String),
    #[error("the {0} reader stopped unexpectedly")]
    Crashed(&'static str),
}

/// The words of a file of `kind`, whitespace collapsed, at most [`MAX_TEXT_CHARS`].
pub fn text(kind: Kind, bytes: &[u8]) -> Result<String, ExtractError> {
    let raw = match kind {
        Kind::Pdf => {
            // The PDF reader is fed outside input and has panicked on broken files:
            // a panic fails this extraction, not the worker.
            let read = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes))
                .map_err(|_| ExtractError::Crashed("PDF"))?;
            read.map_err(|e| ExtractError::Unreadable("PDF", e.to_string()))?
        }
        Kind::Html => html2text::config::plain_no_decorate()
            .raw_mode(true)
            .allow_width_overflow()
            .string_from_read(bytes, 10_000)
            .map_err(|e| ExtractError::Unreadable("HTML", e.to_string()))?,
        Kind::Text => String::from_utf8_lossy(bytes).into_owned(),
        Kind::Link => String::new(),
    };
    Ok(collapse(&raw))
}

fn collapse(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_TEXT_CHARS));
    for (n, word) in raw.split_whitespace().enumerate() {
        if out.len() + word.len() + 1 > MAX_TEXT_CHARS {
            break;
        }
        if n > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A one-page PDF with `line` in Helvetica: for tests and the demo, so they need no
/// binary fixtures. `line` must be plain ASCII without parentheses or backslashes.
pub fn tiny_pdf(line: &str) -> Vec<u8> {
    let stream = format!("BT /F1 12 Tf 72 720 Td ({line}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn words_come_out_of_each_kind() {
        let pdf = text(
            Kind::Pdf,
            &tiny_pdf("Debt bondage indicators for farmworkers"),
        )
        .unwrap();
        assert!(pdf.contains("Debt bondage indicators"), "{pdf}");
        let html = text(
            Kind::Html,
            b"<html><head><style>p{}</style><script>var x;</script></head><body><h1>Signs</h1><p>Withheld   passports</p></body></html>",
        )
        .unwrap();
        assert!(
            html.contains("Signs") && html.contains("Withheld passports"),
            "{html}"
        );
        assert!(!html.contains("var x"), "{html}");
        assert_eq!(text(Kind::Text, b"a\n\n b\tc").unwrap(), "a b c");
    }

    #[test]
    fn a_broken_pdf_is_an_error_not_a_crash() {
        assert!(text(Kind::Pdf, b"%PDF-1.4\n1 0 obj << /Type /Catalog").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn hostile_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut pdf = b"%PDF-1.4\n".to_vec();
            pdf.extend_from_slice(&bytes);
            let _ = text(Kind::Pdf, &pdf);
            let _ = text(Kind::Html, &bytes);
        }
    }
}
