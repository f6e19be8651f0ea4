"""The tests' password hasher: Django's own PBKDF2 at one iteration.

Django's default (PBKDF2, 1,000,000 iterations) costs 2 s a password on the shared 2-core
machine under load (benchmarks/quick_tests.py), paid by every staff fixture
(``UserFactory`` hashes one) and every login. Same algorithm name, so a hash written
here records its one iteration and still verifies in a server the end-to-end tests
start with the real settings (which re-hash it at the first login, as after a Django
upgrade).
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class OneIterationPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1
