; Descriptors of Java files (captures as in queries/rust/descriptors.scm).

; File documentation: the first top-level comment that is not a license (the class Javadoc).
(program (block_comment) @doc)
(program (line_comment) @doc)

(class_declaration name: (identifier) @name body: (_) @body) @definition.class
(interface_declaration name: (identifier) @name body: (_) @body) @definition.interface
(enum_declaration name: (identifier) @name body: (_) @body) @definition.enum
(record_declaration name: (identifier) @name body: (_) @body) @definition.record
(annotation_type_declaration name: (identifier) @name body: (_) @body) @definition.annotation
(method_declaration name: (identifier) @name body: (_)? @body) @definition.method
(constructor_declaration name: (identifier) @name body: (_) @body) @definition.constructor

; Imports.
(import_declaration [(scoped_identifier) (identifier)] @import)

; References: calls, constructors, types.
(method_invocation name: (identifier) @reference)
(object_creation_expression type: (type_identifier) @reference)
(type_identifier) @reference
