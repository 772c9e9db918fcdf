; Appended to the installer's core section (CPACK_NSIS_EXTRA_INSTALL_COMMANDS).
; Puts the example config in place, never over an operator's config, then
; registers and starts the plexd service with the installed plexd.exe, so
; the service is set up exactly as `plexd service install` documents.
; A failure is reported (a message box, skipped by /S) and makes the
; installer exit 2, so a silent install in automation notices.
ReadEnvStr $R0 "ProgramData"
StrCmp $R0 "" 0 +2
  StrCpy $R0 "C:\ProgramData"
CreateDirectory "$R0\plexd"
IfFileExists "$R0\plexd\plexd.toml" plexd_config_ready
  CopyFiles /SILENT "$INSTDIR\plexd.toml.example" "$R0\plexd\plexd.toml"
plexd_config_ready:

DetailPrint "Registering the plexd service (config $R0\plexd\plexd.toml)"
nsExec::ExecToLog '"$INSTDIR\bin\plexd.exe" service install --name plexd -c "$R0\plexd\plexd.toml"'
Pop $R1
StrCmp $R1 "0" plexd_installed
  MessageBox MB_OK|MB_ICONEXCLAMATION "plexd is installed, but registering its service failed (exit code $R1).$\r$\nFix the config, then run from an elevated prompt:$\r$\n  plexd service install -c $R0\plexd\plexd.toml" /SD IDOK
  SetErrorLevel 2
  Goto plexd_service_done
plexd_installed:

DetailPrint "Starting the plexd service"
nsExec::ExecToLog '"$INSTDIR\bin\plexd.exe" service start --name plexd'
Pop $R1
StrCmp $R1 "0" plexd_service_done
  MessageBox MB_OK|MB_ICONEXCLAMATION "The plexd service is registered but did not start (exit code $R1).$\r$\nSee $R0\plexd\logs\plexd-service.log and the Event Log (Application, source plexd)." /SD IDOK
  SetErrorLevel 2
plexd_service_done:
