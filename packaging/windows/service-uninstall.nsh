; Prepended to the uninstaller's section (CPACK_NSIS_EXTRA_UNINSTALL_COMMANDS),
; before any file is removed: stop the service (it drains and says goodbye)
; and delete it. Exit code 1 means it was not installed: nothing to do.
; The config and logs in %ProgramData%\plexd are the operator's and stay.
DetailPrint "Stopping and removing the plexd service"
nsExec::ExecToLog '"$INSTDIR\bin\plexd.exe" service uninstall --name plexd'
Pop $R1
