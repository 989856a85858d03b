; Descriptors of Python files (captures as in queries/rust/descriptors.scm).

; Module documentation: the module docstring, else the leading comment.
(module . (expression_statement (string (string_content) @doc)))
(module . (comment) . (expression_statement (string (string_content) @doc)))
(module . (comment) . (comment) . (expression_statement (string (string_content) @doc)))
(module . (comment) @doc)
(module . (comment) . (comment) @doc)

; Methods.
(class_definition
  body: (block
    (function_definition name: (identifier) @name body: (_) @body) @definition.method))
(class_definition
  body: (block
    (decorated_definition
      definition: (function_definition name: (identifier) @name body: (_) @body) @definition.method)))

; Top-level functions and classes.
(module (function_definition name: (identifier) @name body: (_) @body) @definition.function)
(module
  (decorated_definition
    definition: (function_definition name: (identifier) @name body: (_) @body) @definition.function))
(class_definition name: (identifier) @name body: (_) @body) @definition.class

; Module constants (UPPER_CASE names).
(module
  (expression_statement
    (assignment left: (identifier) @name right: (_) @value) @definition.constant)
  (#match? @name "^[A-Z][A-Z0-9_]*$"))

; Imports.
(import_statement name: (dotted_name) @import)
(import_statement name: (aliased_import name: (dotted_name) @import))
(import_from_statement module_name: (_) @import)

; References: calls, imported names, base classes, annotations.
(call function: (identifier) @reference)
(call function: (attribute attribute: (identifier) @reference))
(import_from_statement name: (dotted_name (identifier) @reference))
(import_from_statement name: (aliased_import name: (dotted_name (identifier) @reference)))
(class_definition superclasses: (argument_list (identifier) @reference))
(class_definition superclasses: (argument_list (attribute attribute: (identifier) @reference)))
(type (identifier) @reference)
(type (generic_type (identifier) @reference))
(decorator (identifier) @reference)
