from aims_mlops.cli import main

main()
