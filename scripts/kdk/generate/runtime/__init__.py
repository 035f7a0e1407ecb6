"""The runtime layer of the generated client, as ordinary Python under our linters and mypy --strict.

`kdk generate` copies every module here except this one into `klaviyo_client/` (then writes the real
`_version.py` over the placeholder). Modules import each other relatively, as they do inside the package.
Nothing in kdk imports them.
"""
