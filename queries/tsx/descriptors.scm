; Descriptors of TSX files: queries/typescript/descriptors.scm, followed by this
; file's additions for JSX.

; References: JSX components.
(jsx_opening_element name: (identifier) @reference)
(jsx_self_closing_element name: (identifier) @reference)
