; Descriptors of YAML files: the keys of the top-level mapping.

(stream . (comment) @doc)
(stream
  (document
    (block_node
      (block_mapping
        (block_mapping_pair key: (_) @name value: (_)? @value) @definition.key))))
