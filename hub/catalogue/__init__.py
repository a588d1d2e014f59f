"""The catalogue: what the hub exchanges, who may do what with it, and the resource metadata a
government information resource catalogue (政务信息资源目录, GB/T 21063) needs about it.

Contract:

- ``Catalogue``: one ``Service`` per routed message type, read from the live configuration
  (runtime-registered departments and admins' route changes count; a disabled department
  neither sends nor receives): its canonical schema, its senders, its receivers (with their
  content conditions) and its ``ResourceMetadata``.
- ``Catalogue.allowed(code)``: for one department, what it may send, receive and read (the
  status, through GetStatus, of the messages it sends or receives), like X-Road's
  allowedMethods.
- ``ResourceMetadata``: name 资源名称, identifier 资源标识符, provider 资源提供方, summary
  资源摘要, category 资源分类, format 信息资源格式, update cycle 更新周期, sharing type
  共享类型 (with its condition when conditional), open type 开放类型. Layered: the shipped
  defaults (hub/defaults/catalogue.toml), then a package's own catalogue.toml for the types
  its department sends, then the deployment's ``resource_catalogue_file``, field by field.
- ``type_schema(type, known, version)``: the self-contained XSD (includes inlined; a later
  version's borrowed 1.0 types copied in) a sender validates the type's canonical record
  with, in ``version`` (default 1.0 while active); ``UnknownMessageType`` for a type the
  catalogue lacks, ``UnknownSchemaVersion``/``RetiredSchemaVersion`` for a version it does
  not offer.
- ``export_xml(catalogue)``: the catalogue as XML for a catalogue system to import, valid
  against xsd/catalogue/resource-catalogue.xsd (checked before it is returned).

Served by SOAP ListServices and GetSchema (hub/api/soap_service.py) and by
``govhub catalogue`` (hub/cli/catalogue.py); docs/catalogue.md is the user's guide.
"""
