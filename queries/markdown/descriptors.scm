; Descriptors of Markdown files (block grammar): headings are definitions, the
; first heading is the summary.

(atx_heading heading_content: (inline) @name @doc) @definition.heading
(setext_heading heading_content: (paragraph) @name @doc @signature) @definition.heading
