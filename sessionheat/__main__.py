from sessionheat.cli import main

main()
