; Where a local variable's value comes from: `x = f(...)` and `T *x = f(...)`.
; Run on demand over one function, before a put site, to tell what the put's
; argument is (parse.put_arguments); not part of the index.

(assignment_expression
  left: (identifier) @name
  right: (call_expression function: (identifier) @source))

(init_declarator
  declarator: [
    (identifier) @name
    (pointer_declarator declarator: (identifier) @name)
  ]
  value: (call_expression function: (identifier) @source))

; An out parameter: `ext4_xattr_inode_iget(inode, ino, hash, &ea_inode)`.
(call_expression
  function: (identifier) @source
  arguments: (argument_list (pointer_expression "&" argument: (identifier) @name)))
