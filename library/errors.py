"""The library's refusals: a code and a sentence, no HTTP (library.api maps codes to
statuses in one table)."""


class LibraryRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
