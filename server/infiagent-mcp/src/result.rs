//! A tool's result as text for the model, capped like other tool results.

use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};

/// Bytes of a result the model is given (as for a process's output).
pub const MAX_RESULT_BYTES: usize = 64 * 1024;

/// The text of `result` (text blocks as they are, other content described,
/// structured content as JSON when there is no text), cut to
/// [`MAX_RESULT_BYTES`]; and whether the server marked it as an error.
pub(crate) fn render_result(result: &CallToolResult) -> (String, bool) {
    let mut parts: Vec<String> = result.content.iter().map(render_block).collect();
    if parts.iter().all(|part| part.trim().is_empty())
        && let Some(structured) = &result.structured_content
    {
        parts = vec![structured.to_string()];
    }
    let text = parts.join("\n");
    let text = if text.trim().is_empty() {
        "(the tool returned no content)".to_string()
    } else {
        text
    };
    (cap(text), result.is_error == Some(true))
}

fn render_block(block: &ContentBlock) -> String {
    match block {
        ContentBlock::Text(text) => text.text.clone(),
        ContentBlock::Image(image) => format!(
            "[an image, {}, {} bytes of base64: not shown]",
            image.mime_type,
            image.data.len()
        ),
        ContentBlock::Audio(audio) => format!(
            "[audio, {}, {} bytes of base64: not shown]",
            audio.mime_type,
            audio.data.len()
        ),
        ContentBlock::Resource(embedded) => match &embedded.resource {
            ResourceContents::TextResourceContents { uri, text, .. } => {
                format!("[resource {uri}]\n{text}")
            }
            ResourceContents::BlobResourceContents {
                uri,
                mime_type,
                blob,
                ..
            } => format!(
                "[resource {uri}, {}, {} bytes of base64: not shown]",
                mime_type.as_deref().unwrap_or("binary"),
                blob.len()
            ),
            _ => "[a resource of a kind not shown]".to_string(),
        },
        ContentBlock::ResourceLink(link) => {
            let description = link
                .description
                .as_deref()
                .map(|description| format!(": {description}"))
                .unwrap_or_default();
            format!("[resource link {} ({}){description}]", link.uri, link.name)
        }
        _ => "[content of a kind not shown]".to_string(),
    }
}

fn cap(text: String) -> String {
    if text.len() <= MAX_RESULT_BYTES {
        return text;
    }
    let mut end = MAX_RESULT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n… ({} more bytes not shown)",
        &text[..end],
        text.len() - end
    )
}

#[cfg(test)]
mod tests {
    use rmcp::model::ContentBlock as Content;

    use super::*;

    #[test]
    fn text_joins_and_errors_are_flagged() {
        let result = CallToolResult::success(vec![Content::text("one"), Content::text("two")]);
        assert_eq!(render_result(&result), ("one\ntwo".to_string(), false));
        let result = CallToolResult::error(vec![Content::text("bad path")]);
        assert_eq!(render_result(&result), ("bad path".to_string(), true));
    }

    #[test]
    fn images_are_described_and_long_text_is_cut() {
        let result = CallToolResult::success(vec![Content::image("AAAA", "image/png")]);
        assert_eq!(
            render_result(&result).0,
            "[an image, image/png, 4 bytes of base64: not shown]"
        );
        let result = CallToolResult::success(vec![Content::text("é".repeat(MAX_RESULT_BYTES))]);
        let (text, _) = render_result(&result);
        assert!(text.len() < MAX_RESULT_BYTES + 100);
        assert!(text.ends_with(&format!("({} more bytes not shown)", MAX_RESULT_BYTES)));
    }
}
