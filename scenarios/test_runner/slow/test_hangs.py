"""Never finishes: the per-file timeout must stop it and say so."""
import time

while True:
    time.sleep(1)
