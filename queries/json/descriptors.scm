; Descriptors of JSON files: the keys of the top-level object.

(document
  (object
    (pair key: (string (string_content) @name) value: (_) @value) @definition.key))
