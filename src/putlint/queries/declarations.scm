; Run on one function only, when one of its member calls or field
; assignments needs the declared type of the object it goes through.
(parameter_declaration) @declaration
(declaration) @declaration
