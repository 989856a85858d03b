; Descriptors of Markdown files (block grammar): headings are definitions; the
; summary is the front matter's description or title, else the first heading.

(minus_metadata) @doc
(plus_metadata) @doc
(atx_heading heading_content: (inline) @name @doc) @definition.heading
(setext_heading heading_content: (paragraph) @name @doc @signature) @definition.heading
