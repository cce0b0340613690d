"""Getting models' media in: recognising files, storing them by hash, manifests, names.

``media`` checks and stores files, ``evaluate`` adds a model's media to a board, ``manifest``
reads manifest files, ``validation`` checks names and prompts, ``gc`` tidies the media folder.
"""
