// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ownable} from "./access/Ownable.sol";
import {IVault} from "./Interfaces.sol";
import {PROVIDER_ROLE} from "./Types.sol";

/// Identity and delegation: master/provider pairing, agents, provider data.
contract Terminal is Ownable {
    bytes32 public constant PROVIDER = PROVIDER_ROLE;

    address public manager;
    address public vault;

    mapping(address => bool) public isProvider;
    mapping(address => bool) public isMaster;
    mapping(address => address) public masterOf;
    mapping(address => address) public providerOf;
    mapping(address => mapping(address => bool)) public isAgentOf;
    mapping(address => string) public baseDataOf;
    mapping(address => string) public liveDataOf;
    mapping(address => bool) public defaultAgentDisabled;

    // provider => master that announced it (first half of the pairing).
    mapping(address => address) private _announcedBy;

    event AgentSet(address account, address agent, bool value);
    event BaseDataUpdated(address provider);
    event DefaultAgentDisabled(address master, bool value);
    event LiveDataUpdated(address provider);
    event MasterAnnounced(address provider, address master);
    event ProviderAnnounced(address provider, address master);
    event ProviderRemoved(address provider);
    event RemoveContainer(address provider, address source);

    modifier onlyProvider() {
        require(isProvider[msg.sender], "NotProvider");
        _;
    }

    constructor(address _manager, address _vault) Ownable(msg.sender) {
        manager = _manager;
        vault = _vault;
    }

    /// Master side of the pairing; `msg.value` (== amount) goes to the
    /// provider's vault lockup.
    function announceProvider(address provider, uint256 amount) external payable {
        require(provider != address(0) && provider != msg.sender, "InvalidAddress");
        require(msg.value == amount, "ValueMismatch");
        address current = _announcedBy[provider];
        require(current == address(0) || current == msg.sender, "AlreadyPaired");
        address paired = providerOf[msg.sender];
        require(paired == address(0) || paired == provider, "AlreadyPaired");
        _announcedBy[provider] = msg.sender;
        isProvider[provider] = true;
        if (amount > 0) {
            IVault(vault).depositLockup{value: amount}(provider);
        }
        emit ProviderAnnounced(provider, msg.sender);
    }

    /// Provider side of the pairing; the master must have announced the caller.
    function announceMaster(address master) external onlyProvider {
        require(master != address(0) && _announcedBy[msg.sender] == master, "NotMaster");
        address paired = providerOf[master];
        require(paired == address(0) || paired == msg.sender, "AlreadyPaired");
        masterOf[msg.sender] = master;
        providerOf[master] = msg.sender;
        isMaster[master] = true;
        emit MasterAnnounced(msg.sender, master);
    }

    function removeProvider(address provider) external {
        require(_announcedBy[provider] == msg.sender, "NotMaster");
        delete _announcedBy[provider];
        delete isProvider[provider];
        if (masterOf[provider] == msg.sender) {
            delete masterOf[provider];
            delete providerOf[msg.sender];
            delete isMaster[msg.sender];
        }
        emit ProviderRemoved(provider);
    }

    function removeContainer(address provider, address source) external {
        require(masterOf[provider] == msg.sender, "NotMaster");
        emit RemoveContainer(provider, source);
    }

    /// Clients and masters authorize agents; providers cannot.
    function setAgent(address agent, bool value) external {
        require(agent != address(0) && agent != msg.sender, "InvalidAddress");
        require(!isProvider[msg.sender], "NotAuthorized");
        isAgentOf[msg.sender][agent] = value;
        emit AgentSet(msg.sender, agent, value);
    }

    function setBaseData(string calldata _baseData) external onlyProvider {
        baseDataOf[msg.sender] = _baseData;
        emit BaseDataUpdated(msg.sender);
    }

    function setLiveData(string calldata _liveData) external onlyProvider {
        liveDataOf[msg.sender] = _liveData;
        emit LiveDataUpdated(msg.sender);
    }

    function setDefaultAgentDisabled(bool value) external onlyProvider {
        defaultAgentDisabled[msg.sender] = value;
        emit DefaultAgentDisabled(msg.sender, value);
    }

    function getIsAgentOf(address master, address agent) external view returns (bool) {
        return isAgentOf[master][agent];
    }

    function getIsMaster(address master) external view returns (bool) {
        return isMaster[master];
    }

    function getMasterOf(address provider) external view returns (address) {
        return masterOf[provider];
    }

    function setManager(address _manager) external onlyOwner {
        manager = _manager;
    }

    function setVault(address _vault) external onlyOwner {
        vault = _vault;
    }
}
