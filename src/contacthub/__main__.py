from contacthub.cli.main import main

main()
