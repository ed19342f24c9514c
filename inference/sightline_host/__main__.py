from sightline_host.cli import main

# The guard matters: tensor-parallel followers start by "spawn", which imports this module again in the child.
if __name__ == "__main__":
    raise SystemExit(main())
